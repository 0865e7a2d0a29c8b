/**
 * What the server keeps in its data directory when configuration does not supply it (D3): the
 * server secret (`curfew.secret`) and the provider's signing keys (`curfew-oidc-keys.json`).
 * Both are generated on first start, written with mode 0600, and reused on every start after, so
 * logout tokens and ID tokens stay verifiable across restarts. Production sets both explicitly.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type PrivateJwks, SigningKeys } from "./core/signing-keys.ts";

/** The data directory, relative to the working directory, as the server and the CLI use it. */
export const DATA_DIR = "data";
export const SECRET_FILE = "curfew.secret";
export const SIGNING_KEYS_FILE = "curfew-oidc-keys.json";

/** The kept secret of a data directory, when there is a usable one. */
export function readSecret(dataDir: string): string | null {
  const file = resolve(dataDir, SECRET_FILE);
  if (!existsSync(file)) return null;
  const secret = readFileSync(file, "utf8").trim();
  return Buffer.byteLength(secret) >= 32 ? secret : null;
}

/**
 * D3: without a configured secret, generate one on first start and keep it (mode 0600), so
 * logout tokens stay valid across restarts. Production refuses to start without one (load.ts).
 */
export function loadOrCreateSecret(dataDir: string, say: (message: string) => void): string {
  const kept = readSecret(dataDir);
  if (kept !== null) return kept;
  const file = resolve(dataDir, SECRET_FILE);
  const secret = randomBytes(32).toString("base64url");
  writePrivate(file, secret + "\n");
  say(`curfew: no secrets.default configured; generated one and kept it in ${file} (mode 0600). Set CURFEW_SECRET in production.`);
  return secret;
}

/** The kept signing keys of a data directory, or null when there are none yet. */
export function readSigningKeys(dataDir: string): PrivateJwks | null {
  const file = resolve(dataDir, SIGNING_KEYS_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PrivateJwks;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** As loadOrCreateSecret, for the provider's RS256 keys: one key generated on first start. */
export async function loadOrCreateSigningKeys(dataDir: string, say: (message: string) => void): Promise<PrivateJwks> {
  const kept = readSigningKeys(dataDir);
  if (kept !== null) return kept;
  const jwks: PrivateJwks = { keys: [await SigningKeys.generate()] };
  writeSigningKeys(dataDir, jwks);
  say(`curfew: no oidc.signing_keys configured; generated an RS256 key and kept it in ${resolve(dataDir, SIGNING_KEYS_FILE)} (mode 0600).`);
  return jwks;
}

/** Replaces the kept signing keys at once (written beside, then renamed), mode 0600. */
export function writeSigningKeys(dataDir: string, jwks: PrivateJwks): void {
  const file = resolve(dataDir, SIGNING_KEYS_FILE);
  const next = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  writePrivate(next, JSON.stringify(jwks, null, 2) + "\n", { exclusive: true });
  renameSync(next, file);
}

/**
 * Writes a file only its owner may read. `exclusive`: the file must not exist yet (`wx`), so a
 * planted file or symlink at that name is refused, not followed; the content is on disk (fsync)
 * before the caller renames it into place.
 */
function writePrivate(file: string, content: string, { exclusive = false } = {}): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, exclusive ? "wx" : "w", 0o600);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, 0o600);
}
