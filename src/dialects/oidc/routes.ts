/**
 * Route paths of the OpenID Connect door (house rule 2), at the issuer's root where Auth0 puts
 * them: auth0-spa-js never reads discovery and builds `/authorize`, `/oauth/token`,
 * `/oauth/revoke` and `/v2/logout` from the domain itself.
 */
export const ROUTES = {
  discovery: "/.well-known/openid-configuration",
  jwks: "/.well-known/jwks.json",
  authorize: "/authorize",
  resumeAuthorization: "/authorize/resume",
  token: "/oauth/token",
  revoke: "/oauth/revoke",
  userinfo: "/userinfo",
  auth0Logout: "/v2/logout",
  endSession: "/oidc/logout",
  confirmEndSession: "/oidc/logout/confirm",
} as const;

/** The door's admin routes, on the admin listener. */
export const ADMIN_ROUTES = {
  clients: "/admin/clients",
  client: "/admin/clients/:id",
  listDeliveries: "/admin/deliveries",
  retryDelivery: "/admin/deliveries/:id/retry",
} as const;

/** The endpoints relying apps' pages call from their own origin (CORS by `web_origins`). */
export const APP_CALLED_PATHS: readonly string[] = [ROUTES.token, ROUTES.revoke, ROUTES.userinfo];
