/**
 * Seeds the benchmark's sessions THROUGH THE STORE (D20: not through login, which is
 * argon2-bound and rate-limited): one identity (email bench@example.test, username `bench`, so
 * the Firstock door's `userId` names it), then groups of sessions, each group begun at its door
 * (D7), built with mintSessionToken so the bench keeps their tokens. Inserts are issued many at
 * a time so the store's group commit batches them (one transaction per batch, as in production).
 *
 * A group may also take part in single sign-on: each of its sessions gets one authorization code
 * per app listed (`store.insertCode(code, participant)`, the write /authorize makes, which also
 * makes the app a participant of the session, so its logout queues a back-channel notice). The
 * codes are built like Grants.issueCode builds them (`id.secret` from mintSessionToken, only the
 * hash kept; `sid` from Proofs), with a PKCE S256 challenge of a verifier the bench keeps, but
 * with the session's lifetime rather than CODE_LIFESPAN_MS: a pool of codes that expired after
 * one minute would not outlive the run. The apps themselves are written first
 * (`store.syncConfigApps`, what Curfew does at start), so the reference's copy of the file has
 * the client rows it authenticates against.
 */
import { randomBytes } from "node:crypto";
import { newId } from "../src/core/ids.ts";
import { auditEvent } from "../src/core/audit.ts";
import type { AuthorizationCode, Door, IdentityRecord, Participant, RelyingApp, Session } from "../src/core/model.ts";
import { Proofs } from "../src/core/proofs.ts";
import { hashSecret, mintSessionToken } from "../src/core/tokens.ts";
import { SqlStore } from "../src/storage/sql/sql-store.ts";

/** The identity's username: the Firstock door's `userId` in the bench. */
export const BENCH_USERNAME = "bench";

export interface SeedGroup {
  count: number;
  door: Door;
  /** Each session takes part in these apps: one unused code per app, in this order. */
  codes?: { clientIds: readonly string[]; redirectUri: string; scope: string; nonce: string };
}

/** A code as the app holds it: what it sends to /oauth/token. */
export interface SeededCode {
  code: string;
  verifier: string;
}

export interface SeedResult {
  identityId: string;
  /** The tokens of each group, in the order the groups were given (and written). */
  tokens: string[][];
  /** The codes of each group: per session, one per app of `codes.clientIds` (empty without). */
  codes: SeededCode[][][];
  ms: number;
}

export interface SeedOptions {
  /** The configuration's apps (Curfew syncs the same ones at start). */
  apps?: readonly RelyingApp[];
  /** The server secret: `sid` is a proof of the session under it (src/core/proofs.ts). */
  secret?: string;
}

/** How many inserts are in flight at once (the group commit cuts batches at 512). */
const IN_FLIGHT = 2048;

export async function seedSessions(databaseUrl: string, groups: readonly SeedGroup[], options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const store = await SqlStore.open(databaseUrl, { migrate: true });
  const proofs = options.secret === undefined ? null : new Proofs(options.secret);
  try {
    const now = new Date();
    if (options.apps && options.apps.length > 0) await store.syncConfigApps(options.apps);
    const identityId = newId();
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
    const codes: SeededCode[][][] = [];
    for (const { count, door, codes: sso } of groups) {
      const group: string[] = new Array(count);
      const groupCodes: SeededCode[][] = sso ? new Array(count) : [];
      tokens.push(group);
      codes.push(groupCodes);
      if (sso && !proofs) throw new Error("seedSessions: codes need options.secret (for sid)");
      for (let start = 0; start < count; start += IN_FLIGHT) {
        // Each chunk is stamped when it is written: a session whose last use is a minute old gets
        // a last-seen write at its next whoami (LAST_SEEN_GRANULARITY_MS), so the sessions written
        // last (the whoami population, see run.ts) must be fresh when the load starts.
        const now = new Date();
        // Long enough for the whole bench: no session expires or idles out while it runs.
        const expiresAt = new Date(now.getTime() + 12 * 3600_000);
        const writes: Promise<void>[] = [];
        const codeWrites: (() => Promise<boolean>)[] = [];
        for (let i = start; i < Math.min(count, start + IN_FLIGHT); i++) {
          const id = newId();
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
          if (!sso) continue;
          const sid = proofs!.mint("sid", id);
          groupCodes[i] = sso.clientIds.map((clientId) => {
            const codeId = newId();
            const minted = mintSessionToken(codeId);
            const verifier = randomBytes(32).toString("base64url");
            const code: AuthorizationCode = {
              id: codeId,
              secretHash: minted.secretHash,
              clientId,
              sessionId: id,
              identityId,
              redirectUri: sso.redirectUri,
              scope: sso.scope,
              nonce: sso.nonce,
              // RFC 7636 S256: BASE64URL(SHA256(verifier)), the very digest hashSecret computes.
              codeChallenge: hashSecret(verifier),
              issuedAt: now,
              expiresAt,
              usedAt: null,
            };
            const participant: Participant = { sessionId: id, clientId, sid, joinedAt: now };
            codeWrites.push(() => store.insertCode(code, participant));
            return { code: minted.token, verifier };
          });
        }
        await Promise.all(writes);
        // After their sessions' commit: insertCode refuses a code for a session it cannot see.
        const stored = await Promise.all(codeWrites.map((write) => write()));
        if (stored.some((ok) => !ok)) throw new Error("seedSessions: a code's session was not found");
      }
    }
    return { identityId, tokens, codes, ms: performance.now() - started };
  } finally {
    // Closing checkpoints the WAL into the main file, so a plain copy of it is complete.
    await store.close();
  }
}
