/**
 * The Store contract: one suite every implementation of the core's Store port passes (house
 * rule 7). SQLite runs it always, PostgreSQL whenever TEST_POSTGRES_URL is set (D18).
 *
 * `open` may be called more than once (the close test opens a store of its own); each call must
 * give an empty, isolated store. Records are built by hand here, not through the core, so a
 * failure points at the store and nothing else. Times are fixed instants, never the wall clock:
 * the store only ever compares the instants it is given.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CoreError } from "../core/errors.ts";
import type {
  Actor,
  AuditEvent,
  AuditEventType,
  AuthorizationCode,
  Door,
  GrantToken,
  Participant,
  RelyingApp,
  Flow,
  Identity,
  IdentityRecord,
  RevocationReason,
  RevocationTarget,
  Session,
} from "../core/model.ts";
import type { RevocationResult, Store } from "../core/ports.ts";

export interface OpenedStore {
  store: Store;
  cleanup?: () => Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The instant most tests live around. */
const T = Date.UTC(2031, 0, 1, 12, 0, 0);
/** A distant epoch used only by the purge tests, so a purge cannot touch another test's rows. */
const P = Date.UTC(2001, 0, 1, 0, 0, 0);

const at = (ms: number): Date => new Date(ms);

const SELF: Actor = { actor: "self", door: "kratos" };
const ADMIN: Actor = { actor: "admin", door: null };

let counter = 0;
/** A short tag unique to this process and call, safe in emails and usernames. */
function tag(): string {
  counter += 1;
  return `${randomBytes(4).toString("hex")}${counter.toString(36)}`;
}

function identityRecord(overrides: Partial<IdentityRecord> = {}): IdentityRecord {
  const t = tag();
  return {
    id: randomUUID(),
    schemaId: "default",
    traits: { email: `Ada.${t}@Example.COM`, username: `Ada_${t}` },
    state: "active",
    stateChangedAt: at(T - DAY),
    createdAt: at(T - DAY),
    updatedAt: at(T - DAY + 1),
    metadataPublic: { plan: "pro", tags: ["a", "b"] },
    metadataAdmin: null,
    externalId: `ext-${t}`,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    digestHash: null,
    ...overrides,
  };
}

function sessionRecord(identityId: string, overrides: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    identityId,
    door: "kratos",
    secretHash: randomBytes(32).toString("base64url"),
    issuedAt: at(T),
    authenticatedAt: at(T),
    expiresAt: at(T + 12 * HOUR),
    lastSeenAt: at(T),
    revokedAt: null,
    revokedReason: null,
    device: { ipAddress: "192.0.2.10", userAgent: "store-contract/1.0" },
    ...overrides,
  };
}

function auditEvent(
  type: AuditEventType,
  when: Date,
  fields: { identityId: string; sessionId?: string | null; door?: Door | null; reason?: string | null; actor?: string },
): AuditEvent {
  return {
    id: randomUUID(),
    at: when,
    type,
    identityId: fields.identityId,
    sessionId: fields.sessionId ?? null,
    door: fields.door ?? null,
    reason: fields.reason ?? null,
    actor: fields.actor ?? "self",
    ipAddress: null,
    userAgent: null,
  };
}

function flowRecord(overrides: Partial<Flow> = {}): Flow {
  return {
    id: randomUUID(),
    type: "login",
    kind: "browser",
    issuedAt: at(T),
    expiresAt: at(T + 10 * MINUTE),
    requestUrl: "https://curfew.example/self-service/login/browser?return_to=%2Faccount",
    returnTo: "https://app.example/after?x=1",
    csrfToken: randomBytes(32).toString("base64url"),
    view: null,
    refresh: false,
    identityId: null,
    ...overrides,
  };
}

/** The Identity part of a record: what findSessionWithIdentity must answer. */
function publicPart(i: Identity): Identity {
  return {
    id: i.id,
    schemaId: i.schemaId,
    traits: i.traits,
    state: i.state,
    stateChangedAt: i.stateChangedAt,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    metadataPublic: i.metadataPublic,
    metadataAdmin: i.metadataAdmin,
    externalId: i.externalId,
  };
}

function isIdentifierTaken(error: unknown): boolean {
  return error instanceof CoreError && error.code === "IDENTIFIER_TAKEN";
}

export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore | undefined;
    const store = (): Store => {
      if (!opened) throw new Error("the store did not open");
      return opened.store;
    };

    before(async () => {
      opened = await open();
    });

    after(async () => {
      if (!opened) return;
      try {
        await opened.store.close();
      } finally {
        await opened.cleanup?.();
      }
    });

    /** Inserts an identity (with its identity.created event) and returns it. */
    async function givenIdentity(overrides: Partial<IdentityRecord> = {}): Promise<IdentityRecord> {
      const identity = identityRecord(overrides);
      await store().insertIdentity(identity, auditEvent("identity.created", identity.createdAt, { identityId: identity.id, actor: "admin" }));
      return identity;
    }

    /** Inserts a session (with its session.begun event) and returns it. */
    async function givenSession(identityId: string, overrides: Partial<Session> = {}): Promise<Session> {
      const session = sessionRecord(identityId, overrides);
      await store().insertSession(
        session,
        auditEvent("session.begun", session.issuedAt, { identityId, sessionId: session.id, door: session.door, actor: session.door }),
      );
      return session;
    }

    /** One revocation write, as the logout engine makes it. */
    const revoke = (target: RevocationTarget, reason: RevocationReason, when: Date, by: Actor = SELF, deleteIdentity = false) =>
      store().revokeSessions({ target, reason, at: when, by, deleteIdentity });
    const idsOf = (result: RevocationResult): string[] => result.revoked.map((r) => r.id);

    async function allSessionPages(query: Parameters<Store["listSessions"]>[0]): Promise<{ items: Session[]; pages: number }> {
      const items: Session[] = [];
      let cursor: string | undefined = query.cursor;
      for (let pages = 1; pages <= 10_000; pages++) {
        const page = await store().listSessions({ ...query, ...(cursor === undefined ? {} : { cursor }) });
        assert.ok(page.items.length <= query.limit, "a page never holds more than the limit");
        items.push(...page.items);
        if (page.next === null) return { items, pages };
        assert.ok(page.items.length > 0, "a page with a next cursor is not empty");
        cursor = page.next;
      }
      throw new Error("pagination did not end");
    }

    // ---- basics -----------------------------------------------------------------------------

    it("sharedWindows: none for a store one process serves; otherwise windows that count, block at max and reset", async (t) => {
      const windows = store().sharedWindows(`contract-${randomUUID()}`, 2, MINUTE);
      if (windows === null) return t.diagnostic("no shared windows: the throttle keeps them in memory");
      const key = randomUUID();
      assert.equal(await windows.blockedFor(key), 0);
      await windows.hit(key);
      assert.equal(await windows.blockedFor(key), 0, "below max");
      await windows.hit(key);
      const wait = await windows.blockedFor(key);
      assert.ok(wait >= 1 && wait <= 60, `blocked for ${wait} s of a one-minute window`);
      assert.equal(await windows.blockedFor(randomUUID()), 0, "another key is not");
      await windows.reset(key);
      assert.equal(await windows.blockedFor(key), 0);
    });

    it("ping commits this process's node row, and again later", async () => {
      await store().ping(at(T));
      await store().ping(at(T + MINUTE));
    });

    // ---- identities -------------------------------------------------------------------------

    describe("identities", () => {
      it("an inserted identity is found by id exactly as given, and its creation is audited", async () => {
        const identity = await givenIdentity();
        assert.deepStrictEqual(await store().findIdentity(identity.id), identity);
        const events = (await store().listAuditEvents({ identityId: identity.id, limit: 10 })).items;
        assert.equal(events.length, 1);
        assert.equal(events[0]!.type, "identity.created");
        assert.equal(events[0]!.actor, "admin");
        assert.equal(events[0]!.at.getTime(), identity.createdAt.getTime());
      });

      it("an identity without a username, null metadata and no external id round-trips", async () => {
        const t = tag();
        const identity = await givenIdentity({
          traits: { email: `bare.${t}@example.org` },
          metadataPublic: null,
          metadataAdmin: { note: "vip", level: 3 },
          externalId: null,
          passwordHash: null,
          state: "inactive",
        });
        const found = await store().findIdentity(identity.id);
        assert.deepStrictEqual(found, identity);
        assert.equal("username" in found!.traits, false, "an absent username stays absent");
      });

      it("many identities may have no username", async () => {
        const a = await givenIdentity({ traits: { email: `nouser.a.${tag()}@example.org` } });
        const b = await givenIdentity({ traits: { email: `nouser.b.${tag()}@example.org` } });
        assert.ok(await store().findIdentity(a.id));
        assert.ok(await store().findIdentity(b.id));
      });

      it("D9: a duplicate email, in any case, is IDENTIFIER_TAKEN and changes nothing", async () => {
        const first = await givenIdentity();
        const clash = identityRecord({ traits: { email: first.traits.email.toUpperCase(), username: `other_${tag()}` } });
        await assert.rejects(
          store().insertIdentity(clash, auditEvent("identity.created", at(T), { identityId: clash.id, actor: "admin" })),
          isIdentifierTaken,
        );
        assert.equal(await store().findIdentity(clash.id), null);
        assert.deepStrictEqual((await store().listAuditEvents({ identityId: clash.id, limit: 10 })).items, []);
        assert.deepStrictEqual(await store().findIdentity(first.id), first);
      });

      it("D9: a duplicate username, in any case, is IDENTIFIER_TAKEN", async () => {
        const first = await givenIdentity();
        const clash = identityRecord({ traits: { email: `fresh.${tag()}@example.org`, username: first.traits.username!.toLowerCase() } });
        await assert.rejects(
          store().insertIdentity(clash, auditEvent("identity.created", at(T), { identityId: clash.id, actor: "admin" })),
          isIdentifierTaken,
        );
        assert.equal(await store().findIdentity(clash.id), null);
      });

      it("a refused write does not take concurrent writes down with it", async () => {
        const first = await givenIdentity();
        const clash = identityRecord({ traits: { email: first.traits.email } });
        const fine = identityRecord();
        const session = sessionRecord(first.id);
        const [refused, inserted, begun] = await Promise.allSettled([
          store().insertIdentity(clash, auditEvent("identity.created", at(T), { identityId: clash.id })),
          store().insertIdentity(fine, auditEvent("identity.created", at(T), { identityId: fine.id })),
          store().insertSession(session, auditEvent("session.begun", at(T), { identityId: first.id, sessionId: session.id })),
        ]);
        assert.equal(refused.status, "rejected");
        assert.ok(isIdentifierTaken((refused as PromiseRejectedResult).reason));
        assert.equal(inserted.status, "fulfilled");
        assert.equal(begun.status, "fulfilled");
        assert.deepStrictEqual(await store().findIdentity(fine.id), fine);
        assert.deepStrictEqual(await store().findSession(session.id), session);
      });

      it("an unknown id finds nothing", async () => {
        assert.equal(await store().findIdentity(randomUUID()), null);
      });

      it("D9: an identity is found by email or username, case-insensitively, stored as given", async () => {
        const identity = await givenIdentity();
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.email), identity);
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.email.toLowerCase()), identity);
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.email.toUpperCase()), identity);
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.username!.toUpperCase()), identity);
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.username!.toLowerCase()), identity);
        assert.equal(await store().findIdentityByIdentifier(`nobody.${tag()}@example.org`), null);
        assert.equal(await store().findIdentityByIdentifier(`nobody_${tag()}`), null);
      });

      it("listIdentities filters on one identifier, case-insensitively", async () => {
        const identity = await givenIdentity();
        await givenIdentity();
        for (const identifier of [identity.traits.email.toUpperCase(), identity.traits.username!.toLowerCase()]) {
          const page = await store().listIdentities({ identifier, limit: 10 });
          assert.deepStrictEqual(page, { items: [identity], next: null });
        }
        assert.deepStrictEqual(await store().listIdentities({ identifier: `nobody.${tag()}@example.org`, limit: 10 }), {
          items: [],
          next: null,
        });
      });

      it("listIdentities pages through every identity once (keyset pagination)", async () => {
        const mine = [await givenIdentity(), await givenIdentity(), await givenIdentity(), await givenIdentity(), await givenIdentity()];
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages < 10_000, "pagination did not end");
          const page = await store().listIdentities({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
          assert.ok(page.items.length <= 2);
          seen.push(...page.items.map((i) => i.id));
          if (page.next === null) break;
          cursor = page.next;
        }
        assert.equal(new Set(seen).size, seen.length, "no identity is listed twice");
        for (const identity of mine) assert.ok(seen.includes(identity.id), `identity ${identity.id} is listed`);
        const everything = await store().listIdentities({ limit: 100_000 });
        assert.equal(everything.next, null);
        assert.deepStrictEqual(everything.items.map((i) => i.id), seen, "pages concatenate to the whole list, in order");
      });

      it("D11: setDigestHash stores the digest verifier and nothing else changes", async () => {
        const identity = await givenIdentity({ digestHash: null });
        const digestHash = "$argon2id$v=19$m=19456,t=2,p=1$ZGlnZXN0c2FsdA$ZGlnZXN0aGFzaGRpZ2VzdA";
        await store().setDigestHash(identity.id, digestHash, identity.passwordHash!);
        assert.deepStrictEqual(await store().findIdentity(identity.id), { ...identity, digestHash });
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.email), { ...identity, digestHash });
      });

      it("updateIdentity without a new password keeps the stored verifiers, whatever the record it is given carries", async () => {
        const identity = await givenIdentity();
        const stale = { ...identity, traits: { ...identity.traits, username: "renamed" }, passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c3RhbGU$c3RhbGU", digestHash: null };
        assert.equal(await store().updateIdentity(stale, auditEvent("identity.updated", at(T), { identityId: identity.id, actor: "admin" }), { password: false }), true);
        const after = await store().findIdentity(identity.id);
        assert.equal(after?.traits.username, "renamed");
        assert.equal(after?.passwordHash, identity.passwordHash, "a password changed meanwhile is not written back");
        assert.equal(after?.digestHash, identity.digestHash);
        assert.equal(await store().updateIdentity({ ...stale, id: randomUUID() }, auditEvent("identity.updated", at(T), { identityId: identity.id, actor: "admin" }), { password: false }), false);
      });

      it("D11: setDigestHash does nothing once the password verifier is another (a change won the race) or a digest exists", async () => {
        const identity = await givenIdentity({ digestHash: null });
        const digestHash = "$argon2id$v=19$m=19456,t=2,p=1$ZGlnZXN0c2FsdA$ZGlnZXN0aGFzaGRpZ2VzdA";
        await store().setDigestHash(identity.id, digestHash, "$argon2id$v=19$m=19456,t=2,p=1$b2xkc2FsdA$b2xkaGFzaA");
        assert.equal((await store().findIdentity(identity.id))?.digestHash, null);
        const other = await givenIdentity({ digestHash: "$argon2id$v=19$m=19456,t=2,p=1$a2VwdA$a2VwdA" });
        await store().setDigestHash(other.id, digestHash, other.passwordHash!);
        assert.equal((await store().findIdentity(other.id))?.digestHash, other.digestHash);
      });

      it("D6: a revocation that deletes the identity revokes its live sessions first, with audit events, then deletes it", async () => {
        const identity = await givenIdentity();
        const other = await givenIdentity();
        const liveA = await givenSession(identity.id, { door: "kratos" });
        const liveB = await givenSession(identity.id, { door: "firstock", issuedAt: at(T + 1) });
        const earlier = await givenSession(identity.id, {
          revokedAt: at(T + MINUTE),
          revokedReason: "logout",
        });
        const expired = await givenSession(identity.id, { expiresAt: at(T + 2 * HOUR) });
        const othersSession = await givenSession(other.id);
        // Warm any cache, so the deletion has to invalidate it.
        assert.ok(await store().findSessionWithIdentity(liveA.id));

        const deletedAt = at(T + 3 * HOUR);
        const result = await revoke({ kind: "identity", identityId: identity.id }, "identity_deleted", deletedAt, ADMIN, true);
        const asked = idsOf(result);

        assert.equal(await store().findIdentity(identity.id), null);
        assert.equal(await store().findIdentityByIdentifier(identity.traits.email), null);
        assert.equal(await store().findIdentityByIdentifier(identity.traits.username!), null);
        assert.deepStrictEqual(new Set(asked), new Set([liveA.id, liveB.id]), "one audit event per live session");
        assert.equal(asked.length, 2);

        for (const live of [liveA, liveB]) {
          const row = await store().findSession(live.id);
          assert.equal(row?.revokedAt?.getTime(), deletedAt.getTime());
          assert.equal(row?.revokedReason, "identity_deleted");
          const withIdentity = await store().findSessionWithIdentity(live.id);
          assert.ok(withIdentity === null || withIdentity.session.revokedAt !== null, "INV-2: no live session survives its identity");
        }
        const earlierRow = await store().findSession(earlier.id);
        assert.equal(earlierRow?.revokedAt?.getTime(), T + MINUTE, "an already-ended session keeps its own end");
        assert.equal(earlierRow?.revokedReason, "logout");
        const expiredRow = await store().findSession(expired.id);
        assert.equal(expiredRow?.revokedAt, null, "an expired session is not revoked again");
        assert.deepStrictEqual(await store().findSession(othersSession.id), othersSession);
        assert.ok(await store().findIdentity(other.id));

        const events = (await store().listAuditEvents({ identityId: identity.id, limit: 100 })).items;
        const types = events.map((e) => e.type);
        assert.equal(types.filter((t) => t === "identity.deleted").length, 1, "the deletion is audited and the trail survives it");
        const ended = events.filter((e) => e.type === "session.ended");
        assert.deepStrictEqual(new Set(ended.map((e) => e.sessionId)), new Set([liveA.id, liveB.id]));
        for (const e of ended) {
          assert.equal(e.reason, "identity_deleted");
          assert.equal(e.actor, "admin");
          assert.equal(e.door, null, "the admin API is no door");
        }
      });

      it("a deleted identity's identifiers are free again", async () => {
        const identity = await givenIdentity();
        assert.deepStrictEqual(await revoke({ kind: "identity", identityId: identity.id }, "identity_deleted", at(T), ADMIN, true), { revoked: [], queued: 0 });
        const again = await givenIdentity({ traits: identity.traits });
        assert.deepStrictEqual(await store().findIdentityByIdentifier(identity.traits.email), again);
      });

      it("deleting an unknown identity is IDENTITY_NOT_FOUND and writes nothing", async () => {
        const id = randomUUID();
        await assert.rejects(revoke({ kind: "identity", identityId: id }, "identity_deleted", at(T), ADMIN, true), (e: unknown) => {
          assert.ok(e instanceof CoreError && e.code === "IDENTITY_NOT_FOUND");
          return true;
        });
        assert.deepStrictEqual((await store().listAuditEvents({ identityId: id, limit: 10 })).items, []);
      });

      it("D6: only an identity target deletes the identity; a session target ignores deleteIdentity", async () => {
        const identity = await givenIdentity();
        const live = await givenSession(identity.id);
        assert.deepStrictEqual(idsOf(await revoke({ kind: "session", sessionId: live.id }, "identity_deleted", at(T + HOUR), ADMIN, true)), [live.id]);
        assert.ok(await store().findIdentity(identity.id), "only an identity target deletes the identity");
      });
    });

    // ---- sessions ---------------------------------------------------------------------------

    describe("sessions", () => {
      it("an inserted session is found exactly as given, and its beginning is audited", async () => {
        const identity = await givenIdentity();
        const session = await givenSession(identity.id, {
          door: "assets",
          authenticatedAt: at(T - MINUTE),
          lastSeenAt: at(T + 5),
          device: { ipAddress: "2001:db8::1", userAgent: null },
        });
        assert.deepStrictEqual(await store().findSession(session.id), session);
        const events = (await store().listAuditEvents({ sessionId: session.id, limit: 10 })).items;
        assert.equal(events.length, 1);
        assert.deepStrictEqual(
          { type: events[0]!.type, identityId: events[0]!.identityId, door: events[0]!.door, actor: events[0]!.actor },
          { type: "session.begun", identityId: identity.id, door: "assets", actor: "assets" },
        );
      });

      it("a session with no device details round-trips", async () => {
        const identity = await givenIdentity();
        const session = await givenSession(identity.id, { door: "oidc", device: { ipAddress: null, userAgent: null } });
        assert.deepStrictEqual(await store().findSession(session.id), session);
      });

      it("an unknown session finds nothing", async () => {
        assert.equal(await store().findSession(randomUUID()), null);
        assert.equal(await store().findSessionWithIdentity(randomUUID()), null);
      });

      it("findSessionWithIdentity answers the session and its identity, without password verifiers", async () => {
        const identity = await givenIdentity({ digestHash: "$argon2id$v=19$m=19456,t=2,p=1$eA$eA" });
        const session = await givenSession(identity.id);
        for (let i = 0; i < 2; i++) {
          // Twice: the second answer may come from a cache, and must be the same.
          const found = await store().findSessionWithIdentity(session.id);
          assert.ok(found);
          assert.deepStrictEqual(found.session, session);
          assert.deepStrictEqual(publicPart(found.identity), publicPart(identity));
          const leaked = found.identity as Partial<IdentityRecord>;
          assert.ok(leaked.passwordHash == null, "no password verifier on the hot path");
          assert.ok(leaked.digestHash == null, "no digest verifier on the hot path");
        }
      });

      it("findSessionWithIdentity keeps a username-less identity's traits as given", async () => {
        const identity = await givenIdentity({ traits: { email: `Solo.${tag()}@Example.org` } });
        const session = await givenSession(identity.id);
        const found = await store().findSessionWithIdentity(session.id);
        assert.deepStrictEqual(found?.identity.traits, identity.traits);
      });

      describe("listing and counting", () => {
        // One identity with sessions of every kind, issued at distinct and equal instants.
        const now = at(T + 6 * HOUR);
        let identity: IdentityRecord;
        let other: IdentityRecord;
        let newestFirst: Session[];
        let live: Session[];
        let ended: Session[];

        before(async () => {
          identity = await givenIdentity();
          other = await givenIdentity();
          const made: Session[] = [];
          for (let i = 0; i < 9; i++) {
            const issued = at(T + Math.floor(i / 2) * MINUTE); // pairs share an issuedAt: ties must page cleanly
            const kind = i % 4;
            made.push(
              await givenSession(identity.id, {
                issuedAt: issued,
                authenticatedAt: issued,
                lastSeenAt: issued,
                door: (["kratos", "oidc", "firstock", "assets"] as const)[i % 4]!,
                ...(kind === 1 ? { revokedAt: at(T + HOUR), revokedReason: "logout" as const } : {}),
                // Ends exactly at `now`: ended, not live.
                ...(kind === 2 ? { expiresAt: i === 2 ? now : at(T + 2 * HOUR) } : {}),
              }),
            );
          }
          await givenSession(other.id);
          await givenSession(other.id, { revokedAt: at(T + HOUR), revokedReason: "revoked_by_admin" });
          newestFirst = [...made].sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime() || (a.id < b.id ? 1 : -1));
          live = newestFirst.filter((s) => s.revokedAt === null && s.expiresAt.getTime() > now.getTime());
          ended = newestFirst.filter((s) => !live.includes(s));
          assert.ok(live.length >= 3 && ended.length >= 3);
        });

        const ids = (sessions: Session[]) => sessions.map((s) => s.id);
        const byNewest = (sessions: Session[]) => {
          for (let i = 1; i < sessions.length; i++) {
            assert.ok(sessions[i - 1]!.issuedAt.getTime() >= sessions[i]!.issuedAt.getTime(), "newest first");
          }
        };

        it("lists an identity's sessions newest first", async () => {
          const page = await store().listSessions({ identityId: identity.id, now, limit: 100 });
          assert.equal(page.next, null);
          byNewest(page.items);
          assert.deepStrictEqual(new Set(ids(page.items)), new Set(ids(newestFirst)));
          assert.equal(page.items.length, newestFirst.length);
          assert.deepStrictEqual(
            page.items.find((s) => s.id === newestFirst[0]!.id),
            newestFirst[0],
            "listed sessions are whole records",
          );
        });

        it("active: true lists only live sessions; a session expiring exactly now is not live", async () => {
          const page = await store().listSessions({ identityId: identity.id, active: true, now, limit: 100 });
          byNewest(page.items);
          assert.deepStrictEqual(new Set(ids(page.items)), new Set(ids(live)));
          assert.equal(page.items.length, live.length);
        });

        it("active: false lists only ended sessions, revoked or expired", async () => {
          const page = await store().listSessions({ identityId: identity.id, active: false, now, limit: 100 });
          byNewest(page.items);
          assert.deepStrictEqual(new Set(ids(page.items)), new Set(ids(ended)));
          assert.equal(page.items.length, ended.length);
        });

        it("D5: idleBefore puts sessions last seen at or before their door's cut-off among the ended", async () => {
          // Cut off exactly at the newest live session's last-seen time for its door only.
          const probe = live[0]!;
          const far = at(T - DAY);
          const idleBefore = { kratos: far, oidc: far, firstock: far, assets: far, [probe.door]: probe.lastSeenAt };
          const active = await store().listSessions({ identityId: identity.id, active: true, now, idleBefore, limit: 100 });
          const idle = live.filter((s) => s.door === probe.door && s.lastSeenAt.getTime() <= probe.lastSeenAt.getTime());
          assert.ok(idle.some((s) => s.id === probe.id));
          assert.deepStrictEqual(new Set(ids(active.items)), new Set(ids(live.filter((s) => !idle.includes(s)))));
          const endedPage = await store().listSessions({ identityId: identity.id, active: false, now, idleBefore, limit: 100 });
          assert.deepStrictEqual(new Set(ids(endedPage.items)), new Set(ids([...ended, ...idle])));
          assert.equal(
            await store().countSessions({ identityId: identity.id, active: true, now, idleBefore }),
            live.length - idle.length,
          );
        });

        it("exceptSessionId leaves one session out", async () => {
          const except = live[0]!.id;
          const page = await store().listSessions({ identityId: identity.id, active: true, exceptSessionId: except, now, limit: 100 });
          assert.deepStrictEqual(new Set(ids(page.items)), new Set(ids(live).filter((id) => id !== except)));
        });

        it("limit and cursor page newest first, with ties on issuedAt, each session once", async () => {
          for (const limit of [1, 2, 3, 4]) {
            const { items, pages } = await allSessionPages({ identityId: identity.id, now, limit });
            byNewest(items);
            assert.equal(new Set(ids(items)).size, items.length, `limit ${limit}: no session twice`);
            assert.deepStrictEqual(new Set(ids(items)), new Set(ids(newestFirst)), `limit ${limit}: every session`);
            assert.equal(pages, Math.max(1, Math.ceil(newestFirst.length / limit)));
          }
          const activePages = await allSessionPages({ identityId: identity.id, active: true, now, limit: 2 });
          assert.deepStrictEqual(new Set(ids(activePages.items)), new Set(ids(live)));
          assert.equal(activePages.items.length, live.length);
        });

        it("a page that fits says there is no next page", async () => {
          const page = await store().listSessions({ identityId: identity.id, now, limit: newestFirst.length });
          assert.equal(page.items.length, newestFirst.length);
          assert.equal(page.next, null);
        });

        it("listing without an identity pages through every session newest first", async () => {
          const { items } = await allSessionPages({ now, limit: 7 });
          byNewest(items);
          assert.equal(new Set(ids(items)).size, items.length);
          for (const s of newestFirst) assert.ok(ids(items).includes(s.id));
          assert.equal(items.length, await store().countSessions({ now }));
        });

        it("countSessions counts what listSessions lists", async () => {
          assert.equal(await store().countSessions({ identityId: identity.id, now }), newestFirst.length);
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now }), live.length);
          assert.equal(await store().countSessions({ identityId: identity.id, active: false, now }), ended.length);
          assert.equal(
            await store().countSessions({ identityId: identity.id, active: true, exceptSessionId: live[0]!.id, now }),
            live.length - 1,
          );
          assert.equal(await store().countSessions({ identityId: other.id, active: true, now }), 1);
          assert.equal(await store().countSessions({ identityId: randomUUID(), now }), 0);
          // Later, everything has expired.
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: at(T + DAY) }), 0);
        });
      });

      it("touchSession records activity, never moves it backwards, and never revives", async () => {
        const identity = await givenIdentity();
        const session = await givenSession(identity.id);
        assert.ok(await store().findSessionWithIdentity(session.id)); // warm any cache
        await store().touchSession(session.id, at(T + 10 * MINUTE));
        assert.equal((await store().findSession(session.id))?.lastSeenAt.getTime(), T + 10 * MINUTE);
        assert.equal((await store().findSessionWithIdentity(session.id))?.session.lastSeenAt.getTime(), T + 10 * MINUTE);
        await store().touchSession(session.id, at(T + 5 * MINUTE));
        assert.equal((await store().findSession(session.id))?.lastSeenAt.getTime(), T + 10 * MINUTE, "a late, older touch is ignored");

        const revoked = await givenSession(identity.id, { revokedAt: at(T + MINUTE), revokedReason: "logout" });
        await store().touchSession(revoked.id, at(T + 20 * MINUTE));
        const row = await store().findSession(revoked.id);
        assert.equal(row?.revokedAt?.getTime(), T + MINUTE);
        assert.equal(row?.revokedReason, "logout");

        await store().touchSession(randomUUID(), at(T)); // unknown: nothing to do, no error
      });

      describe("revocation", () => {
        it("INV-1: revoking a session ends it, keeps the row, and audits reason, door and actor", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id, { door: "firstock" });
          const when = at(T + HOUR);
          const result = await revoke({ kind: "session", sessionId: session.id }, "logout", when, { actor: "self", door: "firstock" });
          assert.deepStrictEqual(result, { revoked: [{ id: session.id, identityId: identity.id, door: "firstock", lastSeenAt: session.lastSeenAt }], queued: 0 });
          assert.deepStrictEqual(await store().findSession(session.id), { ...session, revokedAt: when, revokedReason: "logout" });

          const events = (await store().listAuditEvents({ sessionId: session.id, limit: 10 })).items;
          assert.equal(events.length, 2);
          const endedEvent = events[0]!;
          assert.equal(endedEvent.type, "session.ended", "newest first");
          assert.equal(endedEvent.reason, "logout");
          assert.equal(endedEvent.door, "firstock");
          assert.equal(endedEvent.actor, "self");
          assert.equal(endedEvent.identityId, identity.id);
          assert.equal(endedEvent.at.getTime(), when.getTime());
        });

        it("D6: revoking an ended session again counts nothing, audits nothing, and keeps the first end", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id);
          await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + HOUR));
          const again = await revoke({ kind: "session", sessionId: session.id }, "revoked_by_admin", at(T + 2 * HOUR), ADMIN);
          assert.deepStrictEqual(again, { revoked: [], queued: 0 });
          const row = await store().findSession(session.id);
          assert.equal(row?.revokedAt?.getTime(), T + HOUR);
          assert.equal(row?.revokedReason, "logout");
          assert.equal((await store().listAuditEvents({ sessionId: session.id, limit: 10 })).items.length, 2);
        });

        it("an expired session is not revoked and not counted", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id, { expiresAt: at(T + HOUR) });
          const result = await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + HOUR));
          assert.deepStrictEqual(result, { revoked: [], queued: 0 });
          assert.deepStrictEqual(await store().findSession(session.id), session);
          assert.equal((await store().listAuditEvents({ sessionId: session.id, limit: 10 })).items.length, 1, "no session.ended for it");
        });

        it("revoking an unknown session counts nothing", async () => {
          const result = await revoke({ kind: "session", sessionId: randomUUID() }, "logout", at(T));
          assert.deepStrictEqual(result, { revoked: [], queued: 0 });
        });

        it("a session target with an identity leaves another identity's session untouched", async () => {
          const owner = await givenIdentity();
          const stranger = await givenIdentity();
          const session = await givenSession(owner.id);
          const refused = await revoke({ kind: "session", sessionId: session.id, identityId: stranger.id }, "revoked_by_user", at(T + HOUR));
          assert.deepStrictEqual(refused, { revoked: [], queued: 0 });
          assert.deepStrictEqual(await store().findSession(session.id), session);
          assert.equal((await store().findSessionWithIdentity(session.id))?.session.revokedAt, null);

          const done = await revoke({ kind: "session", sessionId: session.id, identityId: owner.id }, "revoked_by_user", at(T + HOUR));
          assert.deepStrictEqual(idsOf(done), [session.id]);
          assert.equal((await store().findSession(session.id))?.revokedReason, "revoked_by_user");
        });

        it("INV-1: revocations asked for at once each get their own outcome: the first of a session ends it, a wrong owner ends nothing, an ended one counts nothing", async () => {
          const owner = await givenIdentity();
          const stranger = await givenIdentity();
          const [a, b, c, d] = [await givenSession(owner.id), await givenSession(owner.id), await givenSession(owner.id), await givenSession(owner.id)];
          await revoke({ kind: "session", sessionId: d.id }, "logout", at(T + MINUTE));
          // Not awaited one by one: the store may write them together (the SQL store's batch).
          const results = await Promise.all([
            revoke({ kind: "session", sessionId: a.id }, "logout", at(T + HOUR)),
            revoke({ kind: "session", sessionId: a.id }, "revoked_by_admin", at(T + HOUR + 1), ADMIN),
            revoke({ kind: "session", sessionId: b.id, identityId: stranger.id }, "revoked_by_user", at(T + HOUR)),
            revoke({ kind: "session", sessionId: c.id, identityId: owner.id }, "revoked_by_user", at(T + HOUR + 2)),
            revoke({ kind: "session", sessionId: d.id }, "logout", at(T + HOUR)),
            revoke({ kind: "session", sessionId: "not-a-session-id" }, "logout", at(T + HOUR)),
          ]);
          assert.deepStrictEqual(results.map(idsOf), [[a.id], [], [], [c.id], [], []]);
          assert.deepStrictEqual(await store().findSession(a.id), { ...a, revokedAt: at(T + HOUR), revokedReason: "logout" });
          assert.deepStrictEqual(await store().findSession(b.id), b);
          assert.deepStrictEqual(await store().findSession(c.id), { ...c, revokedAt: at(T + HOUR + 2), revokedReason: "revoked_by_user" });
          assert.equal((await store().findSession(d.id))?.revokedAt?.getTime(), T + MINUTE);
          const ended = async (id: string) => (await store().listAuditEvents({ sessionId: id, limit: 10 })).items.filter((e) => e.type === "session.ended");
          assert.deepStrictEqual((await ended(a.id)).map((e) => [e.reason, e.actor, e.at.getTime()]), [["logout", "self", T + HOUR]]);
          assert.deepStrictEqual((await ended(b.id)).length, 0);
          assert.deepStrictEqual((await ended(c.id)).map((e) => [e.reason, e.at.getTime()]), [["revoked_by_user", T + HOUR + 2]]);
          assert.equal((await ended(d.id)).length, 1, "only its first end");
        });

        it("revoking an identity's sessions ends every live one but the excepted, and no one else's", async () => {
          const identity = await givenIdentity();
          const other = await givenIdentity();
          const current = await givenSession(identity.id);
          const liveA = await givenSession(identity.id, { door: "oidc" });
          const liveB = await givenSession(identity.id, { door: "assets" });
          const alreadyEnded = await givenSession(identity.id, { revokedAt: at(T + MINUTE), revokedReason: "logout" });
          const expired = await givenSession(identity.id, { expiresAt: at(T + 30 * MINUTE) });
          const othersSession = await givenSession(other.id);
          for (const s of [current, liveA, liveB, othersSession]) assert.ok(await store().findSessionWithIdentity(s.id));

          const when = at(T + HOUR);
          const result = await revoke({ kind: "identity", identityId: identity.id, exceptSessionId: current.id }, "revoked_by_user", when);
          assert.deepStrictEqual(
            new Set(result.revoked.map((r) => `${r.id} ${r.identityId} ${r.door} ${r.lastSeenAt.getTime()}`)),
            new Set([`${liveA.id} ${identity.id} oidc ${liveA.lastSeenAt.getTime()}`, `${liveB.id} ${identity.id} assets ${liveB.lastSeenAt.getTime()}`]),
          );
          assert.equal(result.revoked.length, 2);

          for (const s of [liveA, liveB]) {
            assert.deepStrictEqual(await store().findSession(s.id), { ...s, revokedAt: when, revokedReason: "revoked_by_user" });
            assert.equal((await store().findSessionWithIdentity(s.id))?.session.revokedAt?.getTime(), when.getTime());
          }
          assert.deepStrictEqual(await store().findSession(current.id), current);
          assert.deepStrictEqual(await store().findSession(alreadyEnded.id), alreadyEnded);
          assert.deepStrictEqual(await store().findSession(expired.id), expired);
          assert.deepStrictEqual(await store().findSession(othersSession.id), othersSession);
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: when }), 1);

          const ended = (await store().listAuditEvents({ identityId: identity.id, limit: 100 })).items.filter((e) => e.type === "session.ended");
          assert.deepStrictEqual(new Set(ended.map((e) => e.sessionId)), new Set([liveA.id, liveB.id]));
          for (const e of ended) assert.equal(e.reason, "revoked_by_user");
        });

        it("revoking an identity's sessions without an exception ends them all", async () => {
          const identity = await givenIdentity();
          const a = await givenSession(identity.id);
          const b = await givenSession(identity.id);
          const result = await revoke({ kind: "identity", identityId: identity.id }, "revoked_by_admin", at(T + HOUR), ADMIN);
          assert.deepStrictEqual(new Set(idsOf(result)), new Set([a.id, b.id]));
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: at(T + HOUR) }), 0);
        });

        it("INV-2: a revoked session is never answered live again by this store", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id);
          for (let i = 0; i < 3; i++) assert.equal((await store().findSessionWithIdentity(session.id))?.session.revokedAt, null);
          await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + HOUR));
          for (let i = 0; i < 3; i++) {
            assert.equal((await store().findSessionWithIdentity(session.id))?.session.revokedAt?.getTime(), T + HOUR);
            assert.equal((await store().findSession(session.id))?.revokedAt?.getTime(), T + HOUR);
          }
        });

        it("INV-1: concurrent revocations each resolve with their own result", async () => {
          const identity = await givenIdentity();
          const sessions = await Promise.all(Array.from({ length: 20 }, () => givenSession(identity.id)));
          const results = await Promise.all(
            sessions.map((s) =>
              revoke({ kind: "session", sessionId: s.id }, "logout", at(T + HOUR)),
            ),
          );
          results.forEach((r, i) => assert.deepStrictEqual(idsOf(r), [sessions[i]!.id]));
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: at(T + HOUR) }), 0);
        });
      });

      describe("extension", () => {
        it("D6: a live session is extended", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id, { expiresAt: at(T + HOUR) });
          assert.ok(await store().findSessionWithIdentity(session.id)); // warm any cache
          assert.equal(await store().extendSession(session.id, at(T + 5 * HOUR), at(T + 30 * MINUTE)), true);
          assert.equal((await store().findSession(session.id))?.expiresAt.getTime(), T + 5 * HOUR);
          assert.equal((await store().findSessionWithIdentity(session.id))?.session.expiresAt.getTime(), T + 5 * HOUR);
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: at(T + 3 * HOUR) }), 1);
        });

        it("D6: a revoked session is not extended and stays revoked", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id, { expiresAt: at(T + HOUR) });
          await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + MINUTE));
          assert.equal(await store().extendSession(session.id, at(T + 5 * HOUR), at(T + 2 * MINUTE)), false);
          const row = await store().findSession(session.id);
          assert.equal(row?.revokedAt?.getTime(), T + MINUTE);
          assert.equal(row?.expiresAt.getTime(), T + HOUR);
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: at(T + 2 * MINUTE) }), 0);
        });

        it("D6: an expired session is not revived (unlike Kratos)", async () => {
          const identity = await givenIdentity();
          const session = await givenSession(identity.id, { expiresAt: at(T + HOUR) });
          assert.equal(await store().extendSession(session.id, at(T + 5 * HOUR), at(T + 2 * HOUR)), false);
          assert.equal(await store().extendSession(session.id, at(T + 5 * HOUR), at(T + HOUR)), false, "expiring exactly now is expired");
          assert.deepStrictEqual(await store().findSession(session.id), session);
          assert.equal(await store().countSessions({ identityId: identity.id, active: true, now: at(T + 3 * HOUR) }), 0);
        });

        it("an unknown session is not extended", async () => {
          assert.equal(await store().extendSession(randomUUID(), at(T + HOUR), at(T)), false);
        });
      });

      it("purgeSessions deletes only rows of sessions that ended before the cut-off", async () => {
        const identity = await givenIdentity();
        const long = { issuedAt: at(P), authenticatedAt: at(P), lastSeenAt: at(P), expiresAt: at(P + 365 * DAY) };
        const cutOff = at(P + 30 * DAY);
        const revokedLongAgo = await givenSession(identity.id, { ...long, revokedAt: at(P + DAY), revokedReason: "logout" });
        const expiredLongAgo = await givenSession(identity.id, { ...long, expiresAt: at(P + 2 * DAY) });
        const liveAll = await givenSession(identity.id, long);
        const revokedLater = await givenSession(identity.id, { ...long, revokedAt: at(P + 40 * DAY), revokedReason: "logout" });
        const expiredLater = await givenSession(identity.id, { ...long, expiresAt: at(P + 40 * DAY) });
        const revokedAtCutOff = await givenSession(identity.id, { ...long, revokedAt: cutOff, revokedReason: "logout" });
        const current = await givenSession(identity.id); // around T, live

        assert.equal(await store().purgeSessions(cutOff), 2);
        assert.equal(await store().findSession(revokedLongAgo.id), null);
        assert.equal(await store().findSession(expiredLongAgo.id), null);
        assert.equal(await store().findSessionWithIdentity(revokedLongAgo.id), null);
        for (const kept of [liveAll, revokedLater, expiredLater, revokedAtCutOff, current]) {
          assert.deepStrictEqual(await store().findSession(kept.id), kept);
        }
        assert.equal(await store().purgeSessions(cutOff), 0, "a second purge finds nothing more");
      });
    });

    // ---- flows ------------------------------------------------------------------------------

    describe("flows", () => {
      it("a browser flow round-trips with its CSRF token and return_to", async () => {
        // A masked token as flows carry it: 32-byte pad + 32-byte secret in base64url, 86 characters.
        const flow = flowRecord({ csrfToken: randomBytes(64).toString("base64url") });
        await store().insertFlow(flow);
        assert.deepStrictEqual(await store().findFlow(flow.id), flow);
      });

      it("an API registration flow round-trips with no token and no return_to", async () => {
        const flow = flowRecord({ type: "registration", kind: "api", returnTo: null, csrfToken: null });
        await store().insertFlow(flow);
        assert.deepStrictEqual(await store().findFlow(flow.id), flow);
      });

      it("an unknown flow finds nothing", async () => {
        assert.equal(await store().findFlow(randomUUID()), null);
      });

      it("saveFlowView replaces the view of a known flow only", async () => {
        const flow = flowRecord();
        await store().insertFlow(flow);
        const view = { values: { identifier: "ALICE" }, messages: [{ id: 4000006, text: "x", type: "error" }] };
        assert.equal(await store().saveFlowView(flow.id, view), true);
        assert.deepStrictEqual(await store().findFlow(flow.id), { ...flow, view });
        assert.equal(await store().saveFlowView(flow.id, null), true);
        assert.deepStrictEqual(await store().findFlow(flow.id), flow);
        assert.equal(await store().saveFlowView(randomUUID(), view), false);
      });

      it("stored errors round-trip, and purgeErrors deletes only those created before the cut-off", async () => {
        const old = { id: randomUUID(), createdAt: at(P), error: { code: 403, reason: "csrf" } };
        const recent = { id: randomUUID(), createdAt: at(T), error: { code: 400, nested: { a: [1, "b"] } } };
        await store().insertError(old);
        await store().insertError(recent);
        assert.deepStrictEqual(await store().findError(recent.id), recent);
        assert.equal(await store().findError(randomUUID()), null);
        assert.equal(await store().purgeErrors(at(P + DAY)), 1);
        assert.equal(await store().findError(old.id), null);
        assert.deepStrictEqual(await store().findError(recent.id), recent);
      });

      it("purgeFlows deletes only flows that expired before the cut-off", async () => {
        const old = flowRecord({ issuedAt: at(P), expiresAt: at(P + DAY) });
        const recent = flowRecord({ issuedAt: at(P), expiresAt: at(P + 60 * DAY) });
        const current = flowRecord();
        for (const f of [old, recent, current]) await store().insertFlow(f);
        assert.equal(await store().purgeFlows(at(P + 30 * DAY)), 1);
        assert.equal(await store().findFlow(old.id), null);
        assert.deepStrictEqual(await store().findFlow(recent.id), recent);
        assert.deepStrictEqual(await store().findFlow(current.id), current);
      });
    });

    // ---- single sign-on ---------------------------------------------------------------------

    describe("single sign-on", () => {
      const app = (clientId: string, overrides: Partial<RelyingApp> = {}): RelyingApp => ({
        clientId,
        secretHash: randomBytes(32).toString("base64url"),
        authMethod: "client_secret_basic",
        redirectUris: ["https://app.example/callback"],
        postLogoutRedirectUris: ["https://app.example/"],
        allowedLogoutUrls: ["https://*.app.example/bye"],
        webOrigins: ["https://app.example"],
        backchannelLogoutUri: "https://app.example/backchannel",
        backchannelLogoutSessionRequired: true,
        frontchannelLogoutUri: null,
        frontchannelLogoutSessionRequired: false,
        source: "config",
        createdAt: at(T),
        updatedAt: at(T),
        ...overrides,
      });
      const code = (session: Session, overrides: Partial<AuthorizationCode> = {}): AuthorizationCode => ({
        id: randomUUID(),
        secretHash: randomBytes(32).toString("base64url"),
        clientId: "app-a",
        sessionId: session.id,
        identityId: session.identityId,
        redirectUri: "https://app.example/callback",
        scope: "openid email",
        nonce: "n-1",
        codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        issuedAt: at(T),
        expiresAt: at(T + MINUTE),
        usedAt: null,
        ...overrides,
      });
      const token = (session: Session, overrides: Partial<GrantToken> = {}): GrantToken => ({
        id: randomUUID(),
        secretHash: randomBytes(32).toString("base64url"),
        kind: "access",
        clientId: "app-a",
        sessionId: session.id,
        identityId: session.identityId,
        scope: "openid",
        codeId: null,
        familyId: randomUUID(),
        issuedAt: at(T),
        expiresAt: at(T + HOUR),
        revokedAt: null,
        usedAt: null,
        ...overrides,
      });
      const participant = (session: Session, clientId = "app-a"): Participant => ({
        sessionId: session.id,
        clientId,
        sid: randomBytes(32).toString("base64url"),
        joinedAt: at(T),
      });
      const live = async () => {
        const identity = await givenIdentity();
        return givenSession(identity.id);
      };

      it("syncConfigApps makes the configuration apps exactly the list given", async () => {
        const a = app("cfg-a");
        await store().syncConfigApps([a, app("cfg-b")]);
        assert.deepStrictEqual(await store().findApp("cfg-a"), a);
        await store().syncConfigApps([app("cfg-b", { redirectUris: ["https://b.example/cb"], updatedAt: at(T + 1) })]);
        assert.equal(await store().findApp("cfg-a"), null, "an app no longer configured is gone");
        const b = await store().findApp("cfg-b");
        assert.deepStrictEqual(b?.redirectUris, ["https://b.example/cb"]);
        assert.equal(b?.createdAt.getTime(), T, "an app that stays keeps its created_at");
        assert.ok((await store().listApps()).some((a) => a.clientId === "cfg-b"));
        assert.equal(await store().findApp("nope\0"), null);
      });

      it("insertApp adds an admin app once; a taken client_id, of either source, writes nothing", async () => {
        const mine = app("adm-a", { source: "admin" });
        assert.equal(await store().insertApp(mine), true);
        assert.deepStrictEqual(await store().findApp("adm-a"), mine);
        assert.equal(await store().insertApp({ ...mine, redirectUris: ["https://other.example/cb"] }), false);
        assert.deepStrictEqual(await store().findApp("adm-a"), mine, "the first app is untouched");
        await store().syncConfigApps([app("cfg-taken")]);
        assert.equal(await store().insertApp(app("cfg-taken", { source: "admin" })), false);
        assert.equal((await store().findApp("cfg-taken"))?.source, "config");
      });

      it("updateApp replaces an admin app's metadata and keeps its created_at; a configuration app is not changed", async () => {
        await store().insertApp(app("adm-u", { source: "admin" }));
        const changed = app("adm-u", { source: "admin", webOrigins: [], frontchannelLogoutUri: "https://app.example/fc", createdAt: at(T + 5), updatedAt: at(T + 5) });
        assert.equal(await store().updateApp(changed), true);
        assert.deepStrictEqual(await store().findApp("adm-u"), { ...changed, createdAt: at(T) });
        await store().syncConfigApps([app("cfg-u")]);
        assert.equal(await store().updateApp(app("cfg-u", { source: "admin", webOrigins: [] })), false);
        assert.deepStrictEqual((await store().findApp("cfg-u"))?.webOrigins, ["https://app.example"]);
        assert.equal(await store().updateApp(app("adm-missing", { source: "admin" })), false);
        assert.equal(await store().findApp("adm-missing"), null, "an update inserts nothing");
      });

      it("deleteApp removes an admin app with its requests, codes, tokens and participants; a configuration app stays", async () => {
        const session = await live();
        await store().insertApp(app("adm-d", { source: "admin" }));
        const c = code(session, { clientId: "adm-d" });
        await store().insertCode(c, participant(session, "adm-d"));
        const t = token(session, { clientId: "adm-d" });
        await store().insertTokens([t]);
        const request = { id: randomUUID(), clientId: "adm-d", issuedAt: at(T), expiresAt: at(T + HOUR), params: {} };
        await store().insertAuthorizationRequest(request);
        assert.equal(await store().deleteApp("adm-d"), true);
        assert.equal(await store().findApp("adm-d"), null);
        assert.equal(await store().redeemCode(c.id, at(T + 1)), null);
        assert.equal(await store().findToken(t.id), null);
        assert.equal(await store().takeAuthorizationRequest(request.id), null);
        assert.deepStrictEqual(await store().listParticipants(session.id), []);
        assert.equal(await store().deleteApp("adm-d"), false, "a second delete finds nothing");
        await store().syncConfigApps([app("cfg-d")]);
        assert.equal(await store().deleteApp("cfg-d"), false);
        assert.ok(await store().findApp("cfg-d"));
        assert.equal(await store().deleteApp("nope\0"), false);
      });

      it("syncConfigApps removes what an app no longer configured was given", async () => {
        const session = await live();
        await store().syncConfigApps([app("cfg-gone")]);
        const t = token(session, { clientId: "cfg-gone" });
        await store().insertTokens([t]);
        await store().syncConfigApps([]);
        assert.equal(await store().findToken(t.id), null);
      });

      it("syncConfigApps taking over an admin app's client_id removes what the admin app was given", async () => {
        const session = await live();
        await store().insertApp(app("taken-over", { source: "admin" }));
        const t = token(session, { clientId: "taken-over" });
        await store().insertTokens([t]);
        await store().syncConfigApps([app("taken-over", { authMethod: "none", secretHash: null })]);
        assert.equal((await store().findApp("taken-over"))?.source, "config");
        assert.equal(await store().findToken(t.id), null, "another app now, perhaps public: the old app's tokens do not pass to it");
      });

      it("an authorization request is taken once", async () => {
        const request = { id: randomUUID(), clientId: "app-a", issuedAt: at(T), expiresAt: at(T + HOUR), params: { a: [1, "x"] } };
        await store().insertAuthorizationRequest(request);
        assert.equal(await store().findAuthorizationRequestClient(request.id), "app-a", "found without being taken");
        assert.deepStrictEqual(await store().takeAuthorizationRequest(request.id), request);
        assert.equal(await store().takeAuthorizationRequest(request.id), null);
        assert.equal(await store().findAuthorizationRequestClient(request.id), null);
        assert.equal(await store().findAuthorizationRequestClient("nope\0"), null);
      });

      it("insertCode makes the app a participant once; nothing is written for a revoked session", async () => {
        const session = await live();
        const p = participant(session);
        assert.equal(await store().insertCode(code(session), p), true);
        assert.equal(await store().insertCode(code(session), { ...p, sid: "other" }), true);
        assert.deepStrictEqual(await store().listParticipants(session.id), [p], "one row per app and session");
        assert.deepStrictEqual(await store().findParticipantBySid(p.sid), p);
        await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + MINUTE));
        const late = code(session);
        assert.equal(await store().insertCode(late, participant(session, "app-b")), false);
        assert.equal(await store().redeemCode(late.id, at(T + 2 * MINUTE)), null);
        assert.equal((await store().listParticipants(session.id)).length, 1);
      });

      it("RFC 6749 §4.1.2: redeemCode answers the first use; a second revokes the tokens issued for the code", async () => {
        const session = await live();
        const c = code(session);
        await store().insertCode(c, participant(session));
        const first = await store().redeemCode(c.id, at(T + 1));
        assert.deepStrictEqual(first, { code: { ...c, usedAt: at(T + 1) }, firstUse: true });
        const issued = token(session, { codeId: c.id });
        assert.equal(await store().insertTokens([issued]), true);
        const second = await store().redeemCode(c.id, at(T + 2));
        assert.equal(second?.firstUse, false);
        assert.equal((await store().findToken(issued.id))?.revokedAt?.getTime(), T + 2);
        assert.equal(await store().redeemCode(randomUUID(), at(T + 3)), null);
      });

      it("insertTokens writes nothing for a revoked session", async () => {
        const session = await live();
        await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + MINUTE));
        const t = token(session);
        assert.equal(await store().insertTokens([t]), false);
        assert.equal(await store().findToken(t.id), null);
      });

      it("rotateRefreshToken: rotated once; presented again it is reuse and revokes the family; unknown or revoked is gone", async () => {
        const session = await live();
        const familyId = randomUUID();
        const refresh = token(session, { kind: "refresh", familyId, expiresAt: at(T + 12 * HOUR) });
        const access = token(session, { familyId });
        await store().insertTokens([access, refresh]);
        const next = token(session, { kind: "refresh", familyId, expiresAt: at(T + 12 * HOUR) });
        assert.equal(await store().rotateRefreshToken(refresh.id, at(T + 1), [next]), "rotated");
        assert.equal((await store().findToken(refresh.id))?.usedAt?.getTime(), T + 1);
        assert.deepStrictEqual(await store().findToken(next.id), next);
        assert.equal(await store().rotateRefreshToken(refresh.id, at(T + 2), [token(session, { kind: "refresh", familyId })]), "reused");
        for (const id of [access.id, refresh.id, next.id]) assert.equal((await store().findToken(id))?.revokedAt?.getTime(), T + 2);
        assert.equal(await store().rotateRefreshToken(next.id, at(T + 3), []), "gone");
        assert.equal(await store().rotateRefreshToken(access.id, at(T + 3), []), "gone", "an access token is not a refresh token");
        assert.equal(await store().rotateRefreshToken(randomUUID(), at(T + 3), []), "gone");
      });

      it("revokeTokenFamily revokes the family's live tokens only", async () => {
        const session = await live();
        const familyId = randomUUID();
        const a = token(session, { familyId });
        const other = token(session);
        await store().insertTokens([a, other]);
        await store().revokeTokenFamily(familyId, at(T + 5));
        assert.equal((await store().findToken(a.id))?.revokedAt?.getTime(), T + 5);
        assert.equal((await store().findToken(other.id))?.revokedAt, null);
      });

      it("revokeSessions also revokes the ended sessions' codes and tokens, in the same write", async () => {
        const session = await live();
        const c = code(session);
        await store().insertCode(c, participant(session));
        const t = token(session, { kind: "refresh" });
        await store().insertTokens([t]);
        await revoke({ kind: "identity", identityId: session.identityId }, "revoked_by_admin", at(T + MINUTE), ADMIN);
        assert.equal((await store().findToken(t.id))?.revokedAt?.getTime(), T + MINUTE);
        assert.equal((await store().redeemCode(c.id, at(T + 2 * MINUTE)))?.firstUse, false, "the code counts as used");
      });

      it("INV-4: revokeSessions queues one pending delivery per participating app with a back-channel URI; claims lease them", async () => {
        await store().syncConfigApps([app("bc-app"), app("quiet-app", { backchannelLogoutUri: null })]);
        const session = await live();
        const p = participant(session, "bc-app");
        await store().insertCode(code(session, { clientId: "bc-app" }), p);
        await store().insertCode(code(session, { clientId: "quiet-app" }), participant(session, "quiet-app"));
        const result = await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + MINUTE));
        assert.equal(result.queued, 1);
        const [row] = await store().listDeliveries({ sessionId: session.id, limit: 10 });
        assert.deepStrictEqual(
          { ...row!, id: "" },
          {
            id: "",
            sessionId: session.id,
            identityId: session.identityId,
            clientId: "bc-app",
            sid: p.sid,
            uri: "https://app.example/backchannel",
            reason: "logout",
            status: "pending",
            attempts: 0,
            nextAttemptAt: at(T + MINUTE),
            leaseUntil: null,
            lastStatus: null,
            lastError: null,
            createdAt: at(T + MINUTE),
            updatedAt: at(T + MINUTE),
          },
        );
        const skipped = await store().claimDeliveries(at(T + 2 * MINUTE), at(T + 3 * MINUTE), 1000, [row!.clientId]);
        assert.ok(!skipped.some((d) => d.id === row!.id), "an app in skip is left for later");
        const claimed = await store().claimDeliveries(at(T + 2 * MINUTE), at(T + 3 * MINUTE), 1000, ["another-app"]);
        assert.ok(claimed.some((d) => d.id === row!.id));
        const again = await store().claimDeliveries(at(T + 2 * MINUTE), at(T + 3 * MINUTE), 1000, []);
        assert.ok(!again.some((d) => d.id === row!.id), "a leased row is not claimed twice");
        await store().recordDelivery(row!.id, { status: "delivered", attempts: 1, nextAttemptAt: at(T + 2 * MINUTE), lastStatus: 204, lastError: null, at: at(T + 2 * MINUTE) });
        const [done] = await store().listDeliveries({ sessionId: session.id, status: "delivered", limit: 10 });
        assert.equal(done?.attempts, 1);
        assert.equal(done?.leaseUntil, null);
        const later = await store().claimDeliveries(at(T + 10 * MINUTE), at(T + 11 * MINUTE), 1000, []);
        assert.ok(!later.some((d) => d.id === row!.id), "a delivered row is never claimed again");
        assert.equal(await store().retryDelivery(row!.id, at(T + 12 * MINUTE)), false, "a delivered row is not retried");
        await store().recordDelivery(row!.id, { status: "failed", attempts: 3, nextAttemptAt: at(T + 12 * MINUTE), lastStatus: 400, lastError: "HTTP 400", at: at(T + 12 * MINUTE) });
        assert.equal(await store().retryDelivery(row!.id, at(T + 13 * MINUTE)), true);
        const [retried] = await store().listDeliveries({ sessionId: session.id, limit: 10 });
        assert.deepStrictEqual([retried?.status, retried?.nextAttemptAt.getTime(), retried?.attempts], ["pending", T + 13 * MINUTE, 3]);
        assert.equal(await store().retryDelivery(randomUUID(), at(T)), false);
      });

      it("INV-4: the expiry sweep revokes participating sessions past their end (absolute or idle), queues their notices, and leaves others", async () => {
        await store().syncConfigApps([app("bc-app")]);
        const identity = await givenIdentity();
        const idleBefore = Object.fromEntries(["kratos", "oidc", "firstock", "assets"].map((d) => [d, at(T + 2 * HOUR - 30 * MINUTE)])) as Record<Door, Date>;
        const expired = await givenSession(identity.id, { expiresAt: at(T + HOUR), lastSeenAt: at(T + HOUR) });
        const idle = await givenSession(identity.id, { expiresAt: at(T + 12 * HOUR), lastSeenAt: at(T + MINUTE) });
        const live = await givenSession(identity.id, { expiresAt: at(T + 12 * HOUR), lastSeenAt: at(T + 2 * HOUR - MINUTE) });
        const bystander = await givenSession(identity.id, { expiresAt: at(T + HOUR) }); // no app took part
        for (const s of [expired, idle, live]) await store().insertCode(code(s, { clientId: "bc-app" }), participant(s, "bc-app"));
        const result = await revoke({ kind: "expired", idleBefore, limit: 100 }, "expired", at(T + 2 * HOUR));
        assert.deepStrictEqual(new Set(idsOf(result).filter((id) => [expired.id, idle.id, live.id, bystander.id].includes(id))), new Set([expired.id, idle.id]));
        assert.ok(result.queued >= 2);
        assert.equal((await store().findSession(expired.id))?.revokedReason, "expired");
        assert.equal((await store().findSession(live.id))?.revokedAt, null);
        assert.equal((await store().findSession(bystander.id))?.revokedAt, null, "no app to tell: left to the purge");
        const notices = await store().listDeliveries({ sessionId: idle.id, limit: 10 });
        assert.deepStrictEqual(notices.map((d) => [d.reason, d.status]), [["expired", "pending"]]);
        const again = await revoke({ kind: "expired", idleBefore, limit: 100 }, "expired", at(T + 2 * HOUR));
        assert.ok(!idsOf(again).includes(expired.id), "swept once");
      });

      it("reauthenticateSession renews a live session's authenticated_at; an ended one is refused", async () => {
        const session = await live();
        assert.ok(await store().findSessionWithIdentity(session.id)); // warm any cache
        assert.equal(await store().reauthenticateSession(session.id, at(T + HOUR)), true);
        const found = await store().findSessionWithIdentity(session.id);
        assert.equal(found?.session.authenticatedAt.getTime(), T + HOUR);
        assert.equal(found?.session.lastSeenAt.getTime(), T + HOUR);
        await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + 2 * HOUR));
        assert.equal(await store().reauthenticateSession(session.id, at(T + 3 * HOUR)), false);
      });

      it("purgeGrants deletes expired requests, codes and tokens, and the participants of purged sessions", async () => {
        const identity = await givenIdentity();
        const old = await givenSession(identity.id, { issuedAt: at(P), authenticatedAt: at(P), lastSeenAt: at(P), expiresAt: at(P + HOUR) });
        const c = code(old, { issuedAt: at(P), expiresAt: at(P + MINUTE) });
        await store().insertCode(c, participant(old));
        const t = token(old, { issuedAt: at(P), expiresAt: at(P + HOUR) });
        await store().insertTokens([t]);
        await store().purgeSessions(at(P + 2 * HOUR));
        assert.ok((await store().purgeGrants(at(P + 2 * HOUR))) >= 3);
        assert.equal(await store().findToken(t.id), null);
        assert.equal(await store().redeemCode(c.id, at(P + 3 * HOUR)), null);
        assert.deepStrictEqual(await store().listParticipants(old.id), []);
      });
    });

    // ---- audit ------------------------------------------------------------------------------

    describe("audit events", () => {
      it("are listed newest first, by identity or by session, up to the limit", async () => {
        const identity = await givenIdentity(); // identity.created at T - DAY
        const session = await givenSession(identity.id, { issuedAt: at(T + 1), door: "oidc" }); // session.begun at T + 1
        const otherSession = await givenSession(identity.id, { issuedAt: at(T + 2) });
        await revoke({ kind: "session", sessionId: session.id }, "logout", at(T + HOUR), { actor: "self", door: "oidc" });
        const endedEvent = (await store().listAuditEvents({ sessionId: session.id, limit: 1 })).items[0]!;
        assert.deepStrictEqual({ ...endedEvent, id: "" }, {
          id: "",
          at: at(T + HOUR),
          type: "session.ended",
          identityId: identity.id,
          sessionId: session.id,
          door: "oidc",
          reason: "logout",
          actor: "self",
          ipAddress: null,
          userAgent: null,
        });

        const bySession = (await store().listAuditEvents({ sessionId: session.id, limit: 10 })).items;
        assert.deepStrictEqual(bySession.map((e) => e.type), ["session.ended", "session.begun"]);
        assert.deepStrictEqual(bySession[0], endedEvent);

        assert.deepStrictEqual((await store().listAuditEvents({ sessionId: session.id, limit: 1 })).items, [endedEvent]);

        const byIdentity = (await store().listAuditEvents({ identityId: identity.id, limit: 10 })).items;
        assert.deepStrictEqual(byIdentity.map((e) => [e.type, e.sessionId]), [
          ["session.ended", session.id],
          ["session.begun", otherSession.id],
          ["session.begun", session.id],
          ["identity.created", null],
        ]);
        for (let i = 1; i < byIdentity.length; i++) assert.ok(byIdentity[i - 1]!.at.getTime() >= byIdentity[i]!.at.getTime());

        const both = (await store().listAuditEvents({ identityId: identity.id, sessionId: otherSession.id, limit: 10 })).items;
        assert.deepStrictEqual(both.map((e) => e.type), ["session.begun"]);

        const any = (await store().listAuditEvents({ limit: 3 })).items;
        assert.equal(any.length, 3);
      });

      it("insertAuditEvents keeps sign-in attempts with their client, with or without a known identity", async () => {
        // A window of its own, a month after the rest of the suite's events.
        const start = T + 30 * 24 * HOUR;
        const window = { since: at(start), until: at(start + HOUR) };
        const identity = identityRecord();
        await store().insertIdentity(identity, auditEvent("identity.created", at(T), { identityId: identity.id }));
        const failed = { ...auditEvent("signin.failed", at(start + MINUTE), { identityId: identity.id, door: "firstock" }), ipAddress: "198.51.100.7", userAgent: "contract/2.0" };
        const locked = { ...failed, id: randomUUID(), type: "signin.locked" as const };
        const stranger = { ...auditEvent("signin.failed", at(start + 2 * MINUTE), { identityId: identity.id, door: "kratos" }), identityId: null, ipAddress: "2001:db8::1", userAgent: null };
        await store().insertAuditEvents([failed, locked]);
        await store().insertAuditEvents([stranger]);
        const all = (await store().listAuditEvents({ ...window, limit: 10 })).items;
        assert.deepStrictEqual(all.map((e) => e.id).sort(), [failed.id, locked.id, stranger.id].sort());
        assert.deepStrictEqual(all.find((e) => e.id === stranger.id), stranger);
        assert.deepStrictEqual((await store().listAuditEvents({ ...window, type: "signin.locked", limit: 10 })).items, [locked]);
        assert.deepStrictEqual((await store().listAuditEvents({ ...window, door: "firstock", limit: 10 })).items.map((e) => e.type).sort(), ["signin.failed", "signin.locked"]);
      });

      it("listAuditEvents: since is inclusive, until exclusive, and pages newest first without a gap or a repeat", async () => {
        const identity = identityRecord();
        const start = T + 40 * 24 * HOUR;
        await store().insertIdentity(identity, auditEvent("identity.created", at(start), { identityId: identity.id }));
        // Seven more, two of them in one millisecond: the page boundary must fall between them too.
        const events = [1, 2, 3, 3, 4, 5, 6].map((m) => auditEvent("signin.failed", at(start + m * MINUTE), { identityId: identity.id, door: "kratos" }));
        await store().insertAuditEvents(events);
        const window = { identityId: identity.id, since: at(start + MINUTE), until: at(start + 6 * MINUTE) };
        const seen: AuditEvent[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store().listAuditEvents({ ...window, limit: 2, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items);
          if (!page.next) break;
          cursor = page.next;
        }
        const expected = events.filter((e) => e.at.getTime() < start + 6 * MINUTE);
        assert.deepStrictEqual(seen.map((e) => e.id).sort(), expected.map((e) => e.id).sort(), "every event of the window once");
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.at.getTime() >= seen[i]!.at.getTime(), "newest first");
      });

      it("purgeAuditEvents deletes what is older than its instant, and only that", async () => {
        const identity = identityRecord();
        await store().insertIdentity(identity, auditEvent("identity.created", at(T), { identityId: identity.id }));
        // Before the suite's clock (T), so the purge takes nothing any test after this one looks for.
        const old = auditEvent("signin.failed", new Date(Date.UTC(2001, 0, 1)), { identityId: identity.id });
        const kept = auditEvent("signin.failed", new Date(Date.UTC(2001, 0, 2)), { identityId: identity.id });
        await store().insertAuditEvents([old, kept]);
        assert.ok((await store().purgeAuditEvents(kept.at)) >= 1, "the old attempt, and whatever else the suite wrote before it");
        assert.deepStrictEqual((await store().listAuditEvents({ identityId: identity.id, limit: 10 })).items.map((e) => e.id), [
          (await store().listAuditEvents({ identityId: identity.id, type: "identity.created", limit: 1 })).items[0]!.id,
          kept.id,
        ]);
      });
    });

    // ---- close ------------------------------------------------------------------------------

    it("close finishes writes already asked for, then the store serves no more", async () => {
      const own = await open();
      try {
        const identity = identityRecord();
        const pending = own.store.insertIdentity(identity, auditEvent("identity.created", at(T), { identityId: identity.id }));
        await own.store.close();
        await pending; // a write accepted before close is not dropped
        await assert.rejects(own.store.ping(at(T)));
      } finally {
        await own.cleanup?.();
      }
    });
  });
}
