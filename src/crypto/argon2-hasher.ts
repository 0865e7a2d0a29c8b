/**
 * The PasswordHasher port over @node-rs/argon2: argon2id, m = 19 MiB, t = 2, p = 1 by default
 * (OWASP Password Storage Cheat Sheet; SEC-64). The parameters travel in
 * the PHC string, so hashes made with older settings still verify after a change.
 * The work runs on libuv's thread pool, off the event loop (FLT-13).
 */
import { hash, verify } from "@node-rs/argon2";
import type { PasswordHasher } from "../core/ports.ts";

export interface Argon2Settings {
  memoryKib: number;
  iterations: number;
}

export const ARGON2_DEFAULTS: Argon2Settings = { memoryKib: 19_456, iterations: 2 };

export function argon2Hasher(settings: Argon2Settings = ARGON2_DEFAULTS): PasswordHasher {
  const options = {
    algorithm: 2, // Algorithm.Argon2id (a const enum, not importable under verbatimModuleSyntax)
    memoryCost: settings.memoryKib,
    timeCost: settings.iterations,
    parallelism: 1,
  };
  return {
    hash: (password) => hash(password, options),
    async verify(phc, password) {
      try {
        return await verify(phc, password);
      } catch {
        // A malformed stored hash verifies nothing; it must not turn into a 500 for the caller.
        return false;
      }
    },
  };
}
