/**
 * The endpoints apps call directly: the token endpoint (RFC 6749 §3.2; codes §4.1.3 with PKCE
 * RFC 7636 §4.5, refresh §6), revocation (RFC 7009) and userinfo (OpenID Connect Core 1.0 §5.3,
 * bearer tokens RFC 6750). Bodies are forms, as the RFCs define them, or JSON, as Auth0 also
 * accepts. Client secrets by HTTP Basic or in the body; a public app sends only its client_id.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { Issued } from "../../core/grants.ts";
import type { RelyingApp } from "../../core/model.ts";
import type { PresentedClient } from "../../core/relying-apps.ts";
import { type OidcApp, type OidcDoorOptions } from "./door.ts";
import { scopedClaims, signIdToken } from "./id-token.ts";
import { OAuthParams } from "./params.ts";
import { ROUTES } from "./routes.ts";
import { ERROR_RESPONSES, Params, TokenResponse, Userinfo } from "./wire.ts";
import { type OAuthFailure, OAuthWireError, invalidRequest } from "./wire-errors.ts";

const TOKEN_PARAMS = ["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "client_id", "client_secret"] as const;
const REVOKE_PARAMS = ["token", "token_type_hint", "client_id", "client_secret"] as const;


/**
 * The client a request presents (RFC 6749 §2.3.1): HTTP Basic with the form-encoded id and
 * secret, or `client_id` (and `client_secret`) in the body; never both methods at once.
 */
function presentedClient(request: FastifyRequest, p: OAuthParams): { client: PresentedClient; basic: boolean } {
  const authorization = request.headers.authorization;
  const bodyId = p.get("client_id");
  const bodySecret = p.get("client_secret");
  if (typeof authorization === "string" && /^basic /i.test(authorization)) {
    if (bodySecret !== undefined) throw new OAuthWireError(invalidRequest("Use one client authentication method, not two."));
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new OAuthWireError(invalidClient(true));
    let id: string;
    let secret: string;
    try {
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
    } catch {
      throw new OAuthWireError(invalidClient(true));
    }
    if (bodyId !== undefined && bodyId !== id) throw new OAuthWireError(invalidRequest("client_id differs from the authenticated client."));
    return { client: { clientId: id, secret }, basic: true };
  }
  if (bodyId === undefined) throw new OAuthWireError(invalidClient(false));
  return { client: { clientId: bodyId, secret: bodySecret ?? null }, basic: false };
}

/** RFC 6749 §5.2: 401, with a Basic challenge when the client tried Basic. */
function invalidClient(basic: boolean): OAuthFailure {
  return {
    status: 401,
    error: "invalid_client",
    description: "Client authentication failed.",
    ...(basic ? { wwwAuthenticate: 'Basic realm="curfew"' } : {}),
  };
}

const invalidGrant = (description: string): OAuthFailure => ({ status: 400, error: "invalid_grant", description });

export function tokenRoutes(app: OidcApp, door: OidcDoorOptions): void {
  const { core } = door;

  /** Reads the parameters and authenticates the client; refusals are thrown as OAuth errors. */
  async function authenticated(request: FastifyRequest, reply: FastifyReply, names: readonly string[]): Promise<{ p: OAuthParams; client: RelyingApp }> {
    const p = new OAuthParams(request.body);
    const repeated = p.duplicated(names);
    if (repeated.length > 0) throw new OAuthWireError(invalidRequest(`The ${repeated[0]} parameter is repeated.`));
    const { client, basic } = presentedClient(request, p);
    const found = await core.apps.authenticate(client);
    if (!found) throw new OAuthWireError(invalidClient(basic));
    allowOriginOf(request, reply, found);
    return { p, client: found };
  }

  async function tokenResponse(reply: FastifyReply, issued: Issued): Promise<FastifyReply> {
    const now = core.clock.now();
    const body: Record<string, unknown> = {
      access_token: issued.accessToken,
      token_type: "Bearer",
      expires_in: Math.max(0, Math.floor((issued.accessExpiresAt.getTime() - now.getTime()) / 1000)),
      scope: issued.scope,
    };
    if (issued.scope.split(" ").includes("openid")) body.id_token = await signIdToken(door, issued, now);
    if (issued.refreshToken !== null) body.refresh_token = issued.refreshToken;
    // RFC 6749 §5.1: no-store (the listener sends it on every response) and Pragma: no-cache.
    return reply.header("pragma", "no-cache").send(body);
  }

  app.post(
    ROUTES.token,
    {
      schema: {
        operationId: "oauth2TokenExchange",
        tags: ["oidc"],
        summary: "Exchange a code (with its PKCE verifier) or a refresh token for tokens",
        body: Params,
        response: { 200: TokenResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { p, client } = await authenticated(request, reply, TOKEN_PARAMS);
      const grantType = p.get("grant_type");
      if (grantType === "authorization_code") {
        const code = p.get("code");
        if (code === undefined) throw new OAuthWireError(invalidRequest("The code parameter is missing."));
        const issued = await core.grants.exchangeCode(client, code, p.get("redirect_uri") ?? null, p.get("code_verifier") ?? null);
        if (!issued) throw new OAuthWireError(invalidGrant("The code is invalid, expired, already used, or was issued for another redirect_uri or verifier."));
        return tokenResponse(reply, issued);
      }
      if (grantType === "refresh_token") {
        const token = p.get("refresh_token");
        if (token === undefined) throw new OAuthWireError(invalidRequest("The refresh_token parameter is missing."));
        const outcome = await core.grants.refresh(client, token, p.get("scope") ?? null);
        if ("refused" in outcome) {
          if (outcome.refused === "invalid_scope") throw new OAuthWireError({ status: 400, error: "invalid_scope", description: "The scope is wider than the one granted." });
          throw new OAuthWireError(invalidGrant("The refresh token is invalid, expired, revoked or already used."));
        }
        return tokenResponse(reply, outcome);
      }
      if (grantType === undefined) throw new OAuthWireError(invalidRequest("The grant_type parameter is missing."));
      throw new OAuthWireError({ status: 400, error: "unsupported_grant_type", description: "Only authorization_code and refresh_token are supported." });
    },
  );

  app.post(
    ROUTES.revoke,
    {
      schema: {
        operationId: "oauth2RevokeToken",
        tags: ["oidc"],
        summary: "Revoke a refresh or access token (RFC 7009); always 200 for an authenticated app",
        body: Params,
        response: { 200: Type.String({ maxLength: 0 }), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { p, client } = await authenticated(request, reply, REVOKE_PARAMS);
      const token = p.get("token");
      if (token === undefined) throw new OAuthWireError(invalidRequest("The token parameter is missing."));
      // RFC 7009 §2.2: an unknown or invalid token is no error; the hint is only a hint.
      await core.grants.revoke(client, token);
      return reply.code(200).send("");
    },
  );

  async function userinfo(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const authorization = request.headers.authorization;
    const bodyToken = new OAuthParams(request.body).get("access_token");
    let token: string | undefined;
    if (typeof authorization === "string" && /^bearer /i.test(authorization)) token = authorization.slice(7).trim();
    // RFC 6750 §2.2: in a form body too, but never in two places at once (§2).
    if (bodyToken !== undefined) {
      if (token !== undefined) throw new OAuthWireError({ ...invalidRequest("Send the access token in one place."), wwwAuthenticate: 'Bearer error="invalid_request"' });
      token = bodyToken;
    }
    if (!token) {
      throw new OAuthWireError({ status: 401, error: "invalid_token", description: "An access token is required.", wwwAuthenticate: 'Bearer realm="curfew"' });
    }
    const found = await core.grants.authenticateAccess(token);
    if (!found) {
      throw new OAuthWireError({
        status: 401,
        error: "invalid_token",
        description: "The access token is invalid, expired or revoked.",
        wwwAuthenticate: 'Bearer realm="curfew", error="invalid_token"',
      });
    }
    const owner = await core.apps.find(found.grant.clientId);
    if (owner) allowOriginOf(request, reply, owner);
    return reply.send({ sub: found.auth.identity.id, ...scopedClaims(found.auth.identity, found.grant.scope) });
  }

  const userinfoSchema = (operationId: string) => ({
    operationId,
    tags: ["oidc"],
    summary: "The signed-in identity's claims, by access token",
    response: { 200: Userinfo, ...ERROR_RESPONSES },
  });
  app.get(ROUTES.userinfo, { schema: userinfoSchema("getUserinfo") }, async (request, reply) => {
    await userinfo(request, reply);
  });
  app.post(ROUTES.userinfo, { schema: { ...userinfoSchema("postUserinfo"), body: Params } }, async (request, reply) => {
    await userinfo(request, reply);
  });
}

/**
 * CORS, second half (the first, preflights, is src/http/cors.ts): a page may read the answer
 * only when its origin is one of the app's own `web_origins`.
 */
function allowOriginOf(request: FastifyRequest, reply: FastifyReply, app: RelyingApp): void {
  const origin = request.headers.origin;
  reply.header("vary", "Origin");
  if (typeof origin === "string" && app.webOrigins.includes(origin)) reply.header("access-control-allow-origin", origin);
}
