/**
 * config → store → core: the one composition the server and the CLI share (D17). Kept apart from
 * server.ts so that a CLI command loads the store and the core, not the HTTP doors (ADR 0023:
 * a CLI call starts in well under a second).
 */
import { randomBytes } from "node:crypto";
import type { Config } from "./config/load.ts";
import { type Core, createCore } from "./core/index.ts";
import { type Clock, type PasswordHasher, type Store, systemClock } from "./core/ports.ts";
import { SigningKeys } from "./core/signing-keys.ts";
import { argon2Hasher } from "./crypto/argon2-hasher.ts";
import { DATA_DIR, loadOrCreateSecret, loadOrCreateSigningKeys, readSecret, readSigningKeys } from "./data-dir.ts";
import type { Metrics } from "./http/metrics.ts";
import { observedStore } from "./storage/observed-store.ts";
import { SqlStore } from "./storage/sql/sql-store.ts";

export interface CoreOptions {
  /** Replaces the SQL store (tests inject a failing wrapper, D19). */
  store?: Store;
  clock?: Clock;
  hasher?: PasswordHasher;
  /** Where a generated secret is kept (D3); default ./data. */
  dataDir?: string;
  /**
   * What to do without a configured secret (D3): `create` one in the data directory on first
   * start, as the server does; or `existing`: use the kept one if there is one, else a secret that
   * lives only in this process (the CLI mints no proofs, and must not leave a second secret behind).
   */
  secret?: "create" | "existing";
  /** A serving node (`curfew serve`): on PostgreSQL it holds a lease and keeps a session cache (ADR 0021). */
  serving?: boolean;
  /** Where the composition says what it did (a generated secret); default stderr. */
  say?: (message: string) => void;
  /** Told of failed store calls and of each group commit (the server's metrics). */
  observe?: Pick<Metrics, "storeError" | "groupCommit">;
}

export interface OpenedCore {
  core: Core;
  store: Store;
}

/** config → store → core: the one composition the server and the CLI share. */
export async function openCore(config: Config, options: CoreOptions = {}): Promise<OpenedCore> {
  const say = options.say ?? ((m: string) => console.error(m));
  const dataDir = options.dataDir ?? DATA_DIR;
  const secret =
    config.secret ??
    (options.secret === "existing" ? (readSecret(dataDir) ?? randomBytes(32).toString("base64url")) : loadOrCreateSecret(dataDir, say));
  // The CLI signs nothing: without kept keys it uses one that lives only in this process.
  const jwks =
    config.oidc.signingKeys ??
    (options.secret === "existing" ? (readSigningKeys(dataDir) ?? { keys: [await SigningKeys.generate()] }) : await loadOrCreateSigningKeys(dataDir, say));
  const signingKeys = await SigningKeys.load(jwks).catch((error: unknown) => {
    throw new Error(`oidc signing keys: ${(error as Error).message}`);
  });
  const store =
    options.store ??
    (await SqlStore.open(config.databaseUrl, {
      migrate: true,
      postgres: config.postgres,
      cluster: { leaseMs: config.leaseMs, serving: options.serving ?? false },
      cache: config.cacheMaxBytes > 0,
      cacheBytes: config.cacheMaxBytes,
      ...(options.observe ? { observeCommits: (size: number, seconds: number) => options.observe!.groupCommit(size, seconds) } : {}),
    }));
  const observe = options.observe;
  const core = createCore({
    store: observe ? observedStore(store, (operation) => observe.storeError(operation)) : store,
    hasher: options.hasher ?? argon2Hasher(config.argon2),
    clock: options.clock ?? systemClock,
    settings: { ...config.core, secret },
    signingKeys,
  });
  return { core, store };
}
