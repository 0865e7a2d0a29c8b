/** Request and response shapes of the OpenID Connect door (TypeBox: validation and OpenAPI in one). */
import { Type } from "typebox";

/** Forms and JSON objects of any parameters: this door reads them itself (params.ts), duplicates included. */
export const Params = Type.Object({}, { additionalProperties: true });

/** RFC 6749 §5.2. */
export const OAuthError = Type.Object({ error: Type.String(), error_description: Type.String() });

export const ERROR_RESPONSES = { 400: OAuthError, 401: OAuthError, 413: OAuthError, 415: OAuthError, 429: OAuthError, 503: OAuthError };

/** RFC 6749 §5.1, OpenID Connect Core 1.0 §3.1.3.3. */
export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer(),
  scope: Type.String(),
  id_token: Type.Optional(Type.String()),
  refresh_token: Type.Optional(Type.String()),
});

export const Userinfo = Type.Object({ sub: Type.String() }, { additionalProperties: true });
