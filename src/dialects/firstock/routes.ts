/** Route paths of the Firstock V4 door (house rule 2). The plugin is registered under PREFIX. */
export const PREFIX = "/api/V4";

export const ROUTES = {
  login: "/login",
  logout: "/logout",
  userDetails: "/userDetails",
} as const;
