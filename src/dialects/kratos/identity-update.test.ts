/**
 * Kratos's `PUT` and `PATCH /admin/identities/{id}` (docs/adr/0026-password-change.md): what an
 * operator changes, and what it ends. Deactivating an identity or resetting its password ends every
 * session of it at every door before the answer; a traits change is seen at once, cache or not.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALICE, BOB, PASSWORD, UNKNOWN_ID, assertHerodot, bySessionToken, createIdentity, json, signIn, submitLogin, whoami, withAlice, type IdentityJson } from "../../../test/support/kratos.ts";
import type { HttpApp } from "../../http/app.ts";

const RESET = "an operator's reset passphrase 31";

async function alice(adm: HttpApp): Promise<IdentityJson> {
  const list = json<IdentityJson[]>(await adm.inject({ method: "GET", url: `/admin/identities?credentials_identifier=${ALICE.email}` }));
  return list[0]!;
}

function put(adm: HttpApp, id: string, body: Record<string, unknown>) {
  return adm.inject({ method: "PUT", url: `/admin/identities/${id}`, payload: { schema_id: "default", traits: ALICE, ...body } });
}

function patch(adm: HttpApp, id: string, ops: unknown) {
  return adm.inject({ method: "PATCH", url: `/admin/identities/${id}`, headers: { "content-type": "application/json" }, payload: JSON.stringify(ops) });
}

describe("PUT /admin/identities/{id}", () => {
  it("new traits are answered at once, also to a session the cache holds", async (t) => {
    const { pub, adm } = await withAlice(t);
    const { token } = await signIn(pub, ALICE.email);
    for (let i = 0; i < 2; i++) assert.equal((await whoami(pub, bySessionToken(token))).statusCode, 200); // cached
    const res = await put(adm, (await alice(adm)).id, { traits: { email: "alice.new@example.com", username: "alice" } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json<IdentityJson>(res).traits.email, "alice.new@example.com");
    const me = json<{ identity: IdentityJson }>(await whoami(pub, bySessionToken(token)));
    assert.equal(me.identity.traits.email, "alice.new@example.com");
  });

  it("state inactive ends every session of the identity, at every door, and refuses its sign-in; active lets it in again", async (t) => {
    const { pub, adm } = await withAlice(t);
    const a = await signIn(pub, ALICE.email);
    const b = await signIn(pub, ALICE.username);
    const id = (await alice(adm)).id;
    assert.equal((await put(adm, id, { state: "inactive" })).statusCode, 200);
    for (const s of [a, b]) assert.equal((await whoami(pub, bySessionToken(s.token))).statusCode, 401);
    assert.equal((await submitLogin(pub, ALICE.email, PASSWORD)).statusCode, 400);
    assert.equal((await put(adm, id, { state: "active" })).statusCode, 200);
    await signIn(pub, ALICE.email);
    const sessions = json<{ active: boolean }[]>(await adm.inject({ method: "GET", url: `/admin/identities/${id}/sessions?active=false` }));
    assert.ok(sessions.length >= 2);
  });

  it("credentials.password.config.password resets the password and ends every session", async (t) => {
    const { pub, adm } = await withAlice(t);
    const a = await signIn(pub, ALICE.email);
    const res = await put(adm, (await alice(adm)).id, { credentials: { password: { config: { password: RESET } } } });
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(!res.body.includes(RESET), "the password is never echoed");
    assert.equal((await whoami(pub, bySessionToken(a.token))).statusCode, 401);
    assert.equal((await submitLogin(pub, ALICE.email, PASSWORD)).statusCode, 400);
    await signIn(pub, ALICE.email, RESET);
  });

  it("refusals change nothing: an unknown id 404, a malformed one 400, a taken email 409, a bad body 400, a weak password 400", async (t) => {
    const { pub, adm } = await withAlice(t);
    await createIdentity(adm, BOB);
    const id = (await alice(adm)).id;
    const a = await signIn(pub, ALICE.email);
    assertHerodot(await put(adm, UNKNOWN_ID, {}), 404);
    assertHerodot(await put(adm, "not-a-uuid", {}), 400);
    assertHerodot(await put(adm, id, { traits: { email: BOB.email } }), 409);
    assertHerodot(await put(adm, id, { schema_id: "other" }), 400);
    assertHerodot(await put(adm, id, { traits: { email: "not an address" } }), 400);
    assertHerodot(await put(adm, id, { id: UNKNOWN_ID }), 400);
    assertHerodot(await put(adm, id, { credentials: { password: { config: { password: "" } } } }), 400);
    assert.equal((await whoami(pub, bySessionToken(a.token))).statusCode, 200);
    assert.equal((await alice(adm)).traits.email, ALICE.email);
  });
});

describe("PATCH /admin/identities/{id} (JSON Patch)", () => {
  it("replaces a trait and the state; a deactivation ends every session", async (t) => {
    const { pub, adm } = await withAlice(t);
    const a = await signIn(pub, ALICE.email);
    const id = (await alice(adm)).id;
    const res = await patch(adm, id, [
      { op: "replace", path: "/traits/username", value: "alice2" },
      { op: "add", path: "/metadata_public", value: { plan: "pro" } },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json<IdentityJson>(res).traits.username, "alice2");
    assert.equal((await whoami(pub, bySessionToken(a.token))).statusCode, 200, "a traits change ends nothing");
    assert.equal((await patch(adm, id, [{ op: "replace", path: "/state", value: "inactive" }])).statusCode, 200);
    assert.equal((await whoami(pub, bySessionToken(a.token))).statusCode, 401);
  });

  for (const [what, ops] of [
    ["credentials", [{ op: "replace", path: "/credentials/password/config/password", value: RESET }]],
    ["the id", [{ op: "replace", path: "/id", value: UNKNOWN_ID }]],
    ["a timestamp", [{ op: "replace", path: "/created_at", value: "2000-01-01T00:00:00Z" }]],
    ["the prototype", [{ op: "add", path: "/traits/__proto__/polluted", value: true }]],
    ["a failing test", [{ op: "replace", path: "/traits/username", value: "x" }, { op: "test", path: "/state", value: "inactive" }]],
    ["a removed required trait", [{ op: "remove", path: "/traits/email" }]],
    ["a state outside the two", [{ op: "replace", path: "/state", value: "banned" }]],
    ["not a patch", { op: "replace" }],
    ["an unknown op", [{ op: "merge", path: "/traits", value: {} }]],
  ] as const) {
    it(`patching ${what} is a 400 and changes nothing`, async (t) => {
      const { adm } = await withAlice(t);
      const before = await alice(adm);
      const res = await patch(adm, before.id, ops);
      assertHerodot(res, 400);
      const after = await alice(adm);
      assert.deepEqual(after, before);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }
});
