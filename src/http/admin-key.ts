/**
 * The admin listener's gate: with `serve.admin.key` set, every admin call needs
 * `Authorization: Bearer <key>`, compared in constant time. Without a key the listener is bound
 * to loopback (the configuration refuses anything else).
 */
import { createHash, timingSafeEqual } from "node:crypto";

export function adminKeyChecker(key: string): (authorization: string | undefined) => boolean {
  // Hash both sides so the comparison takes the same time whatever the presented length.
  const expected = createHash("sha256").update(key).digest();
  return (authorization) => {
    if (typeof authorization !== "string" || !authorization.toLowerCase().startsWith("bearer ")) return false;
    const presented = createHash("sha256").update(authorization.slice(7).trim()).digest();
    return timingSafeEqual(expected, presented);
  };
}
