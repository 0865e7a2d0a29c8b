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

const MAX_ENTRIES = 100_000;

export class SessionCache {
  readonly #entries = new Map<string, CachedSession>();
  #generation = 0;

  constructor(private readonly usable: () => boolean) {}

  get generation(): number {
    return this.#generation;
  }

  get(id: string): CachedSession | undefined {
    return this.usable() ? this.#entries.get(id) : undefined;
  }

  /** Stores a read's result unless an invalidation happened since the read began. */
  set(id: string, value: CachedSession, generationAtRead: number): void {
    // usable() first: it may empty the cache, which moves the generation on.
    if (!this.usable() || generationAtRead !== this.#generation) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(id, value);
  }

  delete(id: string): void {
    this.#generation++;
    this.#entries.delete(id);
  }

  clear(): void {
    this.#generation++;
    this.#entries.clear();
  }
}
