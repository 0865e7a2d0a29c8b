/**
 * Seeds the benchmark's sessions THROUGH THE STORE (D20: not through login, which is
 * argon2-bound and rate-limited): one identity (email bench@example.test, username `bench`, so
 * the Firstock door's `userId` names it), then groups of sessions, each group begun at its door
 * (D7), built with mintSessionToken so the bench keeps their tokens. Inserts are issued many at
 * a time so the store's group commit batches them (one transaction per batch, as in production).
 */
import { randomUUID } from "node:crypto";
import { auditEvent } from "../src/core/audit.ts";
import type { Door, IdentityRecord, Session } from "../src/core/model.ts";
import { mintSessionToken } from "../src/core/tokens.ts";
import { SqlStore } from "../src/storage/sql/sql-store.ts";

/** The identity's username: the Firstock door's `userId` in the bench. */
export const BENCH_USERNAME = "bench";

export interface SeedGroup {
  count: number;
  door: Door;
}

export interface SeedResult {
  identityId: string;
  /** The tokens of each group, in the order the groups were given (and written). */
  tokens: string[][];
  ms: number;
}

/** How many inserts are in flight at once (the group commit cuts batches at 512). */
const IN_FLIGHT = 2048;

export async function seedSessions(databaseFile: string, groups: readonly SeedGroup[]): Promise<SeedResult> {
  const started = performance.now();
  const store = await SqlStore.open(`sqlite:${databaseFile}`, { migrate: true });
  try {
    const now = new Date();
    const identityId = randomUUID();
    const identity: IdentityRecord = {
      id: identityId,
      schemaId: "default",
      traits: { email: "bench@example.test", username: BENCH_USERNAME },
      state: "active",
      stateChangedAt: now,
      createdAt: now,
      updatedAt: now,
      metadataPublic: null,
      metadataAdmin: null,
      externalId: null,
      passwordHash: null,
      digestHash: null,
    };
    await store.insertIdentity(identity, auditEvent("identity.created", now, { identityId, actor: "cli" }));

    const tokens: string[][] = [];
    for (const { count, door } of groups) {
      const group: string[] = new Array(count);
      tokens.push(group);
      for (let start = 0; start < count; start += IN_FLIGHT) {
        // Each chunk is stamped when it is written: a session whose last use is a minute old gets
        // a last-seen write at its next whoami (LAST_SEEN_GRANULARITY_MS), so the sessions written
        // last (the whoami population, see run.ts) must be fresh when the load starts.
        const now = new Date();
        // Long enough for the whole bench: no session expires or idles out while it runs.
        const expiresAt = new Date(now.getTime() + 12 * 3600_000);
        const writes: Promise<void>[] = [];
        for (let i = start; i < Math.min(count, start + IN_FLIGHT); i++) {
          const id = randomUUID();
          const { token, secretHash } = mintSessionToken(id);
          group[i] = token;
          const session: Session = {
            id,
            identityId,
            door,
            secretHash,
            issuedAt: now,
            authenticatedAt: now,
            expiresAt,
            lastSeenAt: now,
            revokedAt: null,
            revokedReason: null,
            device: { ipAddress: "127.0.0.1", userAgent: "curfew-bench" },
          };
          const audit = auditEvent("session.begun", now, { identityId, sessionId: id, door, actor: door });
          writes.push(store.insertSession(session, audit));
        }
        await Promise.all(writes);
      }
    }
    return { identityId, tokens, ms: performance.now() - started };
  } finally {
    // Closing checkpoints the WAL into the main file, so a plain copy of it is complete.
    await store.close();
  }
}
