/**
 * An in-process cache of sessions with their identities, for the embedded SQLite store only
 * (D8: off whenever several processes may share the store without telling each other).
 *
 * Coherence rules, each closing a way a revoked session could come back (INV-2):
 * - every revocation deletes its entries inside the revoking transaction, before the commit
 *   and so before the logout is acknowledged;
 * - a read that started before an invalidation cannot store its (stale) result: entries are
 *   stored only if the generation is unchanged since the read began;
 * - another process writing the same SQLite file (the `curfew` CLI) changes
 *   `PRAGMA data_version`, which empties the cache before the next hit is trusted.
 */
import type { Identity, Session } from "../../core/model.ts";

export interface CachedSession {
  session: Session;
  identity: Identity;
}

const MAX_ENTRIES = 100_000;

export class SessionCache {
  readonly #entries = new Map<string, CachedSession>();
  #generation = 0;

  constructor(private readonly foreignWriteSeen: () => boolean) {}

  get generation(): number {
    return this.#generation;
  }

  get(id: string): CachedSession | undefined {
    if (this.foreignWriteSeen()) this.clear();
    return this.#entries.get(id);
  }

  /** Stores a read's result unless an invalidation happened since the read began. */
  set(id: string, value: CachedSession, generationAtRead: number): void {
    if (generationAtRead !== this.#generation) return;
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
