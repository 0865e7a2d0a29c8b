/**
 * `GET /admin/audit` (docs/adr/0025-audit-trail.md): failed sign-ins and lockouts are in the trail
 * with their door and client, the filters narrow it, paging keeps the filters, and bad filters are
 * a 400 in Kratos's envelope that reads nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALICE, PASSWORD, json, signIn, submitLogin, withAlice } from "../../../test/support/kratos.ts";

interface AuditJson {
  id: string;
  at: string;
  type: string;
  identity_id: string | null;
  session_id: string | null;
  door: string | null;
  reason: string | null;
  actor: string;
  ip_address: string | null;
  user_agent: string | null;
}

describe("GET /admin/audit", () => {
  it("failed sign-ins and the lockout are there, with door, client and identity, and never what was typed", async (t) => {
    const { pub, adm } = await withAlice(t, { "login.rate_limit.per_identifier.max": 2 });
    const client = { remoteAddress: "198.51.100.23", headers: { "user-agent": "audit-test/1.0" } };
    for (let i = 0; i < 2; i++) assert.equal((await submitLogin(pub, ALICE.email, "not the password", client)).statusCode, 400);
    assert.equal((await submitLogin(pub, "nobody@example.com", "not the password", client)).statusCode, 400);
    const res = await adm.inject({ method: "GET", url: "/admin/audit?door=kratos&page_size=10" });
    assert.equal(res.statusCode, 200, res.body);
    const events = json<AuditJson[]>(res);
    const alice = events.find((e) => e.type === "identity.created")?.identity_id ?? (await adm.inject({ method: "GET", url: "/admin/identities" })).json<{ id: string }[]>()[0]!.id;
    const failed = events.filter((e) => e.type === "signin.failed");
    assert.equal(failed.length, 3);
    assert.deepEqual(
      failed.map((e) => e.identity_id),
      [null, alice, alice],
      "newest first; the unknown identifier has no identity",
    );
    for (const e of failed) {
      assert.equal(e.door, "kratos");
      assert.equal(e.ip_address, "198.51.100.23");
      assert.equal(e.user_agent, "audit-test/1.0");
      assert.equal(e.actor, "self");
    }
    const locked = events.filter((e) => e.type === "signin.locked");
    assert.equal(locked.length, 1);
    assert.equal(locked[0]!.identity_id, alice);
    assert.ok(!res.body.includes("nobody@example.com") && !res.body.includes("not the password"));
  });

  it("filters by identity, session, type and instant; pages newest first, and its Link keeps the filters", async (t) => {
    const { pub, adm } = await withAlice(t);
    const first = await signIn(pub, ALICE.email);
    const second = await signIn(pub, ALICE.email, PASSWORD);
    const identityId = first.session.identity!.id;
    const bySession = json<AuditJson[]>(await adm.inject({ method: "GET", url: `/admin/audit?session_id=${second.session.id}` }));
    assert.deepEqual(
      bySession.map((e) => e.type),
      ["session.begun"],
    );
    const page1 = await adm.inject({ method: "GET", url: `/admin/audit?identity_id=${identityId}&type=session.begun&page_size=1` });
    assert.equal(page1.statusCode, 200);
    assert.equal(json<AuditJson[]>(page1)[0]!.session_id, second.session.id);
    const next = /<([^>]+)>; rel="next"/.exec(String(page1.headers.link))?.[1];
    assert.ok(next, String(page1.headers.link));
    const nextUrl = new URL(next);
    assert.equal(nextUrl.searchParams.get("identity_id"), identityId);
    assert.equal(nextUrl.searchParams.get("type"), "session.begun");
    const page2 = await adm.inject({ method: "GET", url: `${nextUrl.pathname}${nextUrl.search}` });
    assert.deepEqual(
      json<AuditJson[]>(page2).map((e) => e.session_id),
      [first.session.id],
    );
    const future = json<AuditJson[]>(await adm.inject({ method: "GET", url: "/admin/audit?since=2999-01-01T00:00:00Z" }));
    assert.deepEqual(future, []);
    const past = json<AuditJson[]>(await adm.inject({ method: "GET", url: "/admin/audit?until=2000-01-01T00:00:00Z" }));
    assert.deepEqual(past, []);
  });

  for (const [what, query] of [
    ["a malformed identity_id", "identity_id=alice"],
    ["a malformed session_id", "session_id=1%27%20or%201=1"],
    ["an unknown type", "type=session.stolen"],
    ["an unknown door", "door=backdoor"],
    ["a since that is no instant", "since=yesterday"],
    ["an until with no offset", "until=2026-12-01T00:00:00"],
    ["a day that does not exist", "since=2026-02-31T00:00:00Z"],
    ["a page size that is no number", "page_size=-1"],
  ] as const) {
    it(`${what} is a 400 in Kratos's envelope`, async (t) => {
      const { adm } = await withAlice(t);
      const res = await adm.inject({ method: "GET", url: `/admin/audit?${query}` });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(json<{ error: { code: number } }>(res).error.code, 400);
    });
  }
});
