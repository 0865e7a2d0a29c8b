/**
 * Propagation's outcomes (SEC-45, FLT-06, FLT-07) with a transport that answers what a test says,
 * over a real in-memory store: what counts as delivered, what is retried and when, what gives up.
 */
import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import type { BackchannelTransport } from "./ports.ts";
import { Propagation } from "./propagation.ts";
import { SqlStore } from "../storage/sql/sql-store.ts";
import { ManualClock } from "../../test/support/clock.ts";
import { testSigningKeys } from "../../test/support/core.ts";
import { appDefinition, identityRecord, sessionRecord } from "../../test/support/records.ts";

const ISSUER = "https://curfew.example/";

/** A store with one ended session whose app is owed a notice; a transport answering `answers` in turn. */
async function setup(t: TestContext, answers: ({ status: number } | { error: string })[]) {
  const store = await SqlStore.open("sqlite::memory:");
  t.after(() => store.close());
  const clock = new ManualClock();
  const now = clock.now();
  await store.syncConfigApps([{ ...appDefinition("rp"), source: "config", createdAt: now, updatedAt: now }]);
  const identity = identityRecord(now);
  await store.insertIdentity(identity, { id: crypto.randomUUID(), at: now, type: "identity.created", identityId: identity.id, sessionId: null, door: null, reason: null, actor: "test", ipAddress: null, userAgent: null });
  const session = sessionRecord(identity.id, now, { expiresAt: new Date(now.getTime() + 3_600_000) });
  await store.insertSession(session, { id: crypto.randomUUID(), at: now, type: "session.begun", identityId: identity.id, sessionId: session.id, door: "kratos", reason: null, actor: "kratos", ipAddress: null, userAgent: null });
  const code = { id: crypto.randomUUID(), secretHash: "x", clientId: "rp", sessionId: session.id, identityId: identity.id, redirectUri: "https://rp.example/cb", scope: "openid", nonce: null, codeChallenge: null, issuedAt: now, expiresAt: now, usedAt: null };
  await store.insertCode(code, { sessionId: session.id, clientId: "rp", sid: "sid-1", joinedAt: now });
  await store.revokeSessions({ target: { kind: "session", sessionId: session.id }, reason: "logout", at: now, by: { actor: "self", door: "kratos" }, deleteIdentity: false });
  const sent: string[] = [];
  const transport: BackchannelTransport = {
    post: async (_uri, token) => {
      sent.push(token);
      return answers.shift() ?? { status: 204 };
    },
  };
  const propagation = new Propagation(store, clock, await testSigningKeys(), transport, ISSUER);
  const row = async () => (await store.listDeliveries({ sessionId: session.id, limit: 1 }))[0]!;
  return { store, clock, propagation, sent, row };
}

describe("Propagation", () => {
  test("SEC-45: 200 and 204 are delivered; the row is never claimed again", async (t) => {
    for (const status of [200, 204]) {
      const { propagation, sent, row } = await setup(t, [{ status }]);
      await propagation.run();
      assert.deepEqual([(await row()).status, (await row()).lastStatus], ["delivered", status]);
      await propagation.run();
      assert.equal(sent.length, 1);
    }
  });

  test("FLT-06: no answer, 503, 429 and 408 are retried after a back-off that doubles, with a fresh token each time", async (t) => {
    const { clock, propagation, sent, row } = await setup(t, [{ error: "connect ECONNREFUSED" }, { status: 503 }, { status: 429 }, { status: 408 }]);
    await propagation.run();
    let r = await row();
    assert.deepEqual([r.status, r.attempts, r.lastError], ["pending", 1, "connect ECONNREFUSED"]);
    await propagation.run();
    assert.equal(sent.length, 1, "not before its time");
    const gaps: number[] = [];
    for (let i = 0; i < 4; i++) {
      gaps.push((await row()).nextAttemptAt.getTime() - clock.now().getTime());
      clock.advance(gaps.at(-1)!);
      await propagation.run();
    }
    r = await row();
    assert.deepEqual([r.status, r.attempts, r.lastStatus], ["delivered", 5, 204]);
    assert.equal(new Set(sent.map((t) => JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString()).jti)).size, 5, "a fresh jti per attempt");
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! >= gaps[i - 1]! * 1.3, `back-off grows: ${gaps.join(", ")}`);
  });

  test("FLT-07: a 400 is tried three times, then failed; a redirect is failed at once and never followed", async (t) => {
    const four = await setup(t, [{ status: 400 }, { status: 400 }, { status: 400 }]);
    for (let i = 0; i < 3; i++) {
      four.clock.advance(20 * 60_000);
      await four.propagation.run();
    }
    assert.deepEqual([(await four.row()).status, (await four.row()).attempts], ["failed", 3]);
    const redirect = await setup(t, [{ status: 302 }]);
    await redirect.propagation.run();
    assert.deepEqual([(await redirect.row()).status, (await redirect.row()).lastStatus], ["failed", 302]);
    assert.equal(redirect.sent.length, 1);
  });

  test("SEC-45: after a day of outages the notice is failed, not retried for ever", async (t) => {
    const { clock, propagation, row } = await setup(t, Array.from({ length: 100 }, () => ({ status: 503 })));
    clock.advance(24 * 3_600_000 + 1);
    await propagation.run();
    assert.equal((await row()).status, "failed");
  });

  test("an app deleted before delivery is cancelled, with nothing sent", async (t) => {
    const { store, propagation, sent, row } = await setup(t, []);
    await store.syncConfigApps([]);
    await propagation.run();
    assert.equal((await row()).status, "cancelled");
    assert.equal(sent.length, 0);
  });

  test("FLT-06: an app that does not answer holds none of the other apps' notices, and at most its share of the slots", async (t) => {
    const store = await SqlStore.open("sqlite::memory:");
    t.after(() => store.close());
    const clock = new ManualClock();
    const now = clock.now();
    const apps = ["slow", "fast"].map((id) => ({ ...appDefinition(id, { backchannelLogoutUri: `https://${id}.example/bc` }), source: "config" as const, createdAt: now, updatedAt: now }));
    await store.syncConfigApps(apps);
    const identity = identityRecord(now);
    await store.insertIdentity(identity, { id: crypto.randomUUID(), at: now, type: "identity.created", identityId: identity.id, sessionId: null, door: null, reason: null, actor: "test", ipAddress: null, userAgent: null });
    const SESSIONS = 40;
    for (let i = 0; i < SESSIONS; i++) {
      const session = sessionRecord(identity.id, now, { expiresAt: new Date(now.getTime() + 3_600_000) });
      await store.insertSession(session, { id: crypto.randomUUID(), at: now, type: "session.begun", identityId: identity.id, sessionId: session.id, door: "kratos", reason: null, actor: "kratos", ipAddress: null, userAgent: null });
      for (const app of apps) {
        const code = { id: crypto.randomUUID(), secretHash: "x", clientId: app.clientId, sessionId: session.id, identityId: identity.id, redirectUri: "https://rp.example/cb", scope: "openid", nonce: null, codeChallenge: null, issuedAt: now, expiresAt: now, usedAt: null };
        await store.insertCode(code, { sessionId: session.id, clientId: app.clientId, sid: `sid-${i}`, joinedAt: now });
      }
    }
    await store.revokeSessions({ target: { kind: "identity", identityId: identity.id }, reason: "logout", at: now, by: { actor: "admin", door: null }, deleteIdentity: false });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let slowInFlight = 0;
    let slowMost = 0;
    const transport: BackchannelTransport = {
      post: async (uri) => {
        if (!uri.startsWith("https://slow.example/")) return { status: 204 };
        slowMost = Math.max(slowMost, ++slowInFlight);
        await released;
        slowInFlight--;
        return { status: 204 };
      },
    };
    const propagation = new Propagation(store, clock, await testSigningKeys(), transport, ISSUER);
    const delivered = async (clientId: string) => (await store.listDeliveries({ clientId, status: "delivered", limit: 1000 })).length;
    await propagation.poll();
    // The slow app's notices hang; the fast app's are all told meanwhile (a bounded wait, no timing asserted).
    for (let i = 0; i < 500 && (await delivered("fast")) < SESSIONS; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await delivered("fast"), SESSIONS, "every notice to the app that answers was delivered while the other hung");
    assert.equal(await delivered("slow"), 0);
    assert.ok(slowMost > 0 && slowMost < 16, `the silent app held ${slowMost} slots, at most its share`);
    release();
    await propagation.run();
    assert.equal(await delivered("slow"), SESSIONS, "and once it answers, its backlog drains");
  });
});
