/** Route paths of the WoodWing Assets door (house rule 2). */

/** assetsServices is registered under this prefix; its routes below are relative to it. */
export const SERVICES_PREFIX = "/services";

export const ROUTES = {
  login: "/login",
  apiLogin: "/apilogin",
  profile: "/profile",
  logout: "/logout",
  /** At the root, not under /services (assetsRedirectLogout). */
  redirectLogout: "/logout",
} as const;
