/**
 * CSRF tokens, the first of the two layers every state-changing browser request passes
 * (house rule 9; the second, Origin / Sec-Fetch-Site, is src/http/same-site.ts).
 *
 * - Pre-session (login and registration forms, D12): a random secret lives in an HttpOnly
 *   cookie; each form carries it masked with a fresh one-time pad, as ory/nosurf does
 *   (github.com/ory/nosurf), so the token in the page differs on every render (BREACH) and
 *   proves only that the submitter could read our page and send our cookie.
 * - Session-bound (pages of a signed-in user, the Assets door's X-CSRF-TOKEN): a proof of the
 *   session (core/proofs.ts), so it dies with the session (SEC-28) and needs no storage.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

const SECRET_BYTES = 32;

export function newCsrfSecret(): string {
  return randomBytes(SECRET_BYTES).toString("base64url");
}

/** base64url(pad ‖ secret XOR pad): a fresh-looking token for the same secret. */
export function maskCsrfSecret(secret: string): string {
  const raw = Buffer.from(secret, "base64url");
  const pad = randomBytes(raw.length);
  const masked = Buffer.alloc(raw.length);
  for (let i = 0; i < raw.length; i++) masked[i] = raw[i]! ^ pad[i]!;
  return Buffer.concat([pad, masked]).toString("base64url");
}

/** Whether a masked token unmasks to the cookie's secret (constant time). */
export function csrfTokenMatches(token: string | undefined | null, secret: string | undefined | null): boolean {
  if (!token || !secret) return false;
  const raw = Buffer.from(secret, "base64url");
  const both = Buffer.from(token, "base64url");
  if (raw.length !== SECRET_BYTES || both.length !== 2 * SECRET_BYTES) return false;
  const unmasked = Buffer.alloc(SECRET_BYTES);
  for (let i = 0; i < SECRET_BYTES; i++) unmasked[i] = both[i]! ^ both[i + SECRET_BYTES]!;
  return timingSafeEqual(unmasked, raw);
}
