/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0 §3) and the JWKS its `jwks_uri` names.
 * Only what is built is advertised: a client library branches on these fields (express-openid-
 * connect needs `end_session_endpoint` for `idpLogout`; oauth4webapi requires `iss` on the
 * authorization response once `authorization_response_iss_parameter_supported` is true).
 */
import { Type } from "typebox";
import { SUPPORTED_SCOPES } from "../../core/grants.ts";
import { SIGNING_ALG } from "../../core/signing-keys.ts";
import { type OidcApp, type OidcDoorOptions, endpoint } from "./door.ts";
import { ROUTES } from "./routes.ts";

const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"];

export function discoveryDocument(door: OidcDoorOptions): { issuer: string } & Record<string, unknown> {
  return {
    issuer: door.issuer,
    authorization_endpoint: endpoint(door, ROUTES.authorize),
    token_endpoint: endpoint(door, ROUTES.token),
    userinfo_endpoint: endpoint(door, ROUTES.userinfo),
    jwks_uri: endpoint(door, ROUTES.jwks),
    revocation_endpoint: endpoint(door, ROUTES.revoke),
    // RP-Initiated Logout 1.0 §2.1, at Auth0's path.
    end_session_endpoint: endpoint(door, ROUTES.endSession),
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query", "form_post"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    code_challenge_methods_supported: ["S256"],
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "email", "preferred_username"],
    prompt_values_supported: ["none", "login"],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
    // Back-Channel Logout 1.0 §2.1: logout tokens carry `sid`, and ID tokens do too.
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // Front-Channel Logout 1.0 §3: the pages of /v2/logout and /oidc/logout frame the apps, with iss and sid.
    frontchannel_logout_supported: true,
    frontchannel_logout_session_supported: true,
    // RFC 9207: every authorization response, success or error, carries `iss`.
    authorization_response_iss_parameter_supported: true,
  };
}

export function discoveryRoutes(app: OidcApp, door: OidcDoorOptions): void {
  const document = discoveryDocument(door);
  app.get(
    ROUTES.discovery,
    {
      schema: {
        operationId: "discoverOidcConfiguration",
        tags: ["oidc"],
        summary: "OpenID Provider metadata",
        response: { 200: Type.Object({ issuer: Type.String() }, { additionalProperties: true }) },
      },
    },
    async (_request, reply) => reply.header("cache-control", "public, max-age=300").send(document),
  );
  app.get(
    ROUTES.jwks,
    {
      schema: {
        operationId: "discoverJsonWebKeys",
        tags: ["oidc"],
        summary: "The public keys that verify ID tokens and logout tokens",
        response: { 200: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }) },
      },
    },
    // Not cached for long: a rotation (`curfew signing-keys rotate`) must reach apps soon.
    async (_request, reply) => reply.header("cache-control", "public, max-age=60").send(door.core.signingKeys.publicJwks()),
  );
}
