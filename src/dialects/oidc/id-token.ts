/**
 * ID tokens (OpenID Connect Core 1.0 §2) and the claims /userinfo shares with them (§5.4):
 * RS256 with `kid`, `iss` exactly the issuer, `sub` the identity id, `aud` the app, an hour of
 * life, `auth_time`, `nonce` when one was sent, and `sid` (Front-Channel Logout 1.0 §3), so that
 * logout hints and logout tokens name the session.
 */
import type { Issued } from "../../core/grants.ts";
import type { Identity } from "../../core/model.ts";
import type { OidcDoorOptions } from "./door.ts";

export const ID_TOKEN_LIFESPAN_S = 3600;

/** The identity's claims a scope grants (OpenID Connect Core 1.0 §5.4). */
export function scopedClaims(identity: Identity, scope: string): Record<string, string> {
  const scopes = new Set(scope.split(" "));
  const claims: Record<string, string> = {};
  if (scopes.has("email")) claims.email = identity.traits.email;
  if (scopes.has("profile") && identity.traits.username !== undefined) claims.preferred_username = identity.traits.username;
  return claims;
}

export async function signIdToken(door: OidcDoorOptions, issued: Issued, now: Date): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const { session, identity } = issued.auth;
  return door.core.signingKeys.sign({
    iss: door.issuer,
    sub: identity.id,
    aud: issued.clientId,
    exp: iat + ID_TOKEN_LIFESPAN_S,
    iat,
    auth_time: Math.floor(session.authenticatedAt.getTime() / 1000),
    ...(issued.nonce !== null ? { nonce: issued.nonce } : {}),
    sid: door.core.grants.sidOf(session.id),
    ...scopedClaims(identity, issued.scope),
  });
}
