/**
 * An in-process cache of sessions with their identities (ADR 0005; on PostgreSQL, ADR 0021).
 *
 * Coherence rules, each closing a way a revoked session could come back (INV-2):
 * - every revocation deletes its entries inside the revoking transaction, before the commit
 *   and so before the logout is acknowledged;
 * - a read that started before an invalidation cannot store its (stale) result: entries are
 *   stored only if the generation is unchanged since the read began;
 * - `usable()` is asked before every hit and every store. On SQLite it empties the cache when
 *   another process (the `curfew` CLI) has written the file (`PRAGMA data_version`); on
 *   PostgreSQL it is false while this node holds no lease, and the node that gets its lease
 *   back empties the cache first (`PostgresCluster`).
 */
import type { Identity, Session } from "../../core/model.ts";

export interface CachedSession {
  session: Session;
  identity: Identity;
  /** Set on the entries kept here, so a caller can tell a kept copy from a read (`Store.findSessionWithIdentity`). */
  cached?: true;
}

/**
 * What one entry costs in the heap besides its variable strings: measured at about 1.7 KB for a
 * session of the bench (its Session and Identity objects, their Dates, the Map's slot), of which
 * these are the fixed part. The bound is by bytes, not entries, so sessions with long user agents
 * or large traits take their share.
 */
const ENTRY_BYTES = 1_500;

/** `session.cache_max_bytes`'s default: 64 MiB, about 38,000 sessions of the bench's size. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

interface Kept {
  value: CachedSession;
  bytes: number;
}

/** An estimate of what keeping `v` costs (UTF-16: two bytes a character). */
function sizeOf(v: CachedSession): number {
  const { ipAddress, userAgent } = v.session.device;
  const i = v.identity;
  const strings = (ipAddress?.length ?? 0) + (userAgent?.length ?? 0) + JSON.stringify(i.traits).length + JSON.stringify(i.metadataPublic ?? null).length;
  return ENTRY_BYTES + 2 * strings;
}

export class SessionCache {
  readonly #entries = new Map<string, Kept>();
  #bytes = 0;
  #generation = 0;

  constructor(
    private readonly usable: () => boolean,
    private readonly maxBytes: number = DEFAULT_CACHE_BYTES,
  ) {}

  get generation(): number {
    return this.#generation;
  }

  /** The estimated heap the entries take, for tests and the bench. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): CachedSession | undefined {
    return this.usable() ? this.#entries.get(id)?.value : undefined;
  }

  /** Stores a read's result unless an invalidation happened since the read began; the oldest entries make room. */
  set(id: string, value: CachedSession, generationAtRead: number): void {
    // usable() first: it may empty the cache, which moves the generation on.
    if (!this.usable() || generationAtRead !== this.#generation) return;
    const bytes = sizeOf(value);
    if (bytes > this.maxBytes) return;
    this.#remove(id);
    while (this.#bytes + bytes > this.maxBytes) this.#remove(this.#entries.keys().next().value as string);
    this.#entries.set(id, { value, bytes });
    this.#bytes += bytes;
  }

  delete(id: string): void {
    this.#generation++;
    this.#remove(id);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
    this.#bytes = 0;
  }

  #remove(id: string): void {
    const kept = this.#entries.get(id);
    if (!kept) return;
    this.#entries.delete(id);
    this.#bytes -= kept.bytes;
  }
}
