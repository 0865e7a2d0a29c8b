/**
 * Session tokens (D1).
 *
 * A session token is `id.secret`: the session's UUID, a dot, and 32 bytes from the CSPRNG in
 * base64url (256 bits; SEC-01 asks for at least 128). Only SHA-256 of the secret is stored
 * (SEC-03), so a copy of the database holds no live credential; lookups go by id and the
 * secret is then compared in constant time, which leaves no timing oracle in an index.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export interface MintedToken {
  token: string;
  secretHash: string;
}

export function mintSessionToken(sessionId: string): MintedToken {
  const secret = randomBytes(32).toString("base64url");
  return { token: `${sessionId}.${secret}`, secretHash: hashSecret(secret) };
}

export interface ParsedToken {
  sessionId: string;
  secret: string;
}

/** Splits a presented token; null when it is not of our shape (then it matches nothing). */
export function parseSessionToken(token: string): ParsedToken | null {
  if (token.length !== 36 + 1 + 43) return null;
  const sessionId = token.slice(0, 36);
  const secret = token.slice(37);
  if (token[36] !== "." || !UUID.test(sessionId) || !SECRET.test(secret)) return null;
  return { sessionId, secret };
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

/** Constant-time check of a presented secret against the stored digest. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = hash("sha256", secret, "buffer");
  const stored = Buffer.from(storedHash, "base64url");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** Constant-time equality of two strings of any length (the lengths themselves are not secret). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Hex SHA-256 of a password: what Firstock clients send in place of the password (D11). */
export function passwordDigest(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}
