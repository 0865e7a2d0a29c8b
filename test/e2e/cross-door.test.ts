/**
 * One logout across every door (docs/architecture.md "The doors, one core"; INV-2, D1, D7): over real
 * sockets with plain fetch, one identity signs in at the Kratos door (native login), the
 * Firstock door (jKey) and the Assets door (`/services/login` cookie + csrfToken, and
 * `/services/apilogin` bearer). Every way a session can end, through any door, is crossed with
 * every door's own check; each cell is a test that
 *   1. begins the session under test at one door, and an unrelated live session of the same
 *      identity (the bystander) at another;
 *   2. sees the check door accept the session, ends it through the ending door, and sees the
 *      check door refuse it (INV-2);
 *   3. sees the bystander still live at every door, except where the operation ends them all;
 *   4. reads the audit trail: a `session.begun` per sign-in with its door, a `session.ended` per
 *      end with the door it came through (admin: null) and the reason.
 * Beside the matrix: the session lists show every session with its door (D7), and any Curfew
 * token passes Kratos whoami as X-Session-Token or Bearer (D1).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Proofs } from "../../src/core/proofs.ts";
import type { AuditEvent, Door } from "../../src/core/model.ts";
import { TEST_SECRET, type TestServer, startTestServer } from "../support/server.ts";

const PASSWORD = "cross door correct horse 42";
/** Firstock clients send the hex SHA-256 of the password (D11). */
const PASSWORD_DIGEST = createHash("sha256").update(PASSWORD).digest("hex");
const VENDOR = { vendorCode: "V1", apiKey: "K1" };

let server: TestServer;
let serial = 0;

before(async () => {
  server = await startTestServer({
    listen: true,
    config: {
      "firstock.vendors": [{ vendor_code: VENDOR.vendorCode, api_key: VENDOR.apiKey }],
      // Every sign-in here comes from 127.0.0.1: keep the per-IP limits out of the way (every
      // ended session is checked at every door, so 127.0.0.1 presents hundreds of dead jKeys).
      "login.rate_limit.per_ip.max": 100_000,
      "limits.per_ip.bad_tokens.max": 100_000,
      // No daily cut-off, so a run near 23:59 IST cannot see a Firstock session end by itself.
      "session.doors.firstock.daily_cutoff": "",
    },
  });
});

after(async () => {
  await server?.close();
});

// ---- the wire, as each door's clients speak it -----------------------------------------------

interface Person {
  id: string;
  email: string;
  username: string;
}

/** The doors a session can begin at; `assets-api` is `/services/apilogin` (a bearer token). */
type BeginDoor = "kratos" | "firstock" | "assets" | "assets-api";
const BEGIN_DOORS: readonly BeginDoor[] = ["kratos", "firstock", "assets", "assets-api"];

/** A session as its client holds it. */
interface Held {
  begunAt: BeginDoor;
  /** The door the core records (D7). */
  door: Door;
  token: string;
  id: string;
  /**
   * How the Assets door is shown this token: the cookie for browser sessions (the Assets
   * `authToken` cookie, and a Kratos session token put there, D1), the bearer for API clients.
   */
  assetsCarrier: "cookie" | "bearer";
  /** The session's Assets csrfToken (from /services/login, else derived as the server does). */
  csrf: string;
}

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const res = await fetch(url, { redirect: "manual", ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Kratos whoami with these credential headers. */
function whoami(headers: Record<string, string>): ReturnType<typeof call> {
  return call(`${server.publicUrl}/sessions/whoami`, { headers: { accept: "application/json", ...headers } });
}

function jsonBody(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

async function createPerson(): Promise<Person> {
  serial += 1;
  const traits = { email: `cross${serial}@example.test`, username: `cross_${serial}` };
  const res = await call(`${server.adminUrl}/admin/identities`, jsonBody({ schema_id: "default", traits, credentials: { password: { config: { password: PASSWORD } } } }));
  assert.equal(res.status, 201, res.text);
  return { id: res.json().id, ...traits };
}

function sessionIdOf(token: string): string {
  const id = token.split(".", 1)[0]!;
  assert.match(id, /^[0-9a-f-]{36}$/, "tokens are id.secret (D1)");
  return id;
}

function held(begunAt: BeginDoor, token: string, csrf?: string): Held {
  const id = sessionIdOf(token);
  const door: Door = begunAt === "assets-api" ? "assets" : begunAt;
  const assetsCarrier = begunAt === "kratos" || begunAt === "assets" ? "cookie" : "bearer";
  return { begunAt, door, token, id, assetsCarrier, csrf: csrf ?? new Proofs(TEST_SECRET).mint("csrf", id) };
}

async function signInKratos(p: Person, identifier = p.email): Promise<Held> {
  const flow = await call(`${server.publicUrl}/self-service/login/api`, { headers: { accept: "application/json" } });
  assert.equal(flow.status, 200, flow.text);
  const res = await call(
    `${server.publicUrl}/self-service/login?flow=${flow.json().id}`,
    jsonBody({ method: "password", identifier, password: PASSWORD }, { accept: "application/json" }),
  );
  assert.equal(res.status, 200, res.text);
  const body = res.json();
  assert.equal(body.session.door, "kratos");
  assert.equal(body.session.id, sessionIdOf(body.session_token));
  return held("kratos", body.session_token);
}

async function signInFirstock(p: Person): Promise<Held> {
  const res = await call(
    `${server.publicUrl}/api/V4/login`,
    jsonBody({ userId: p.username, password: PASSWORD_DIGEST, TOTP: "", vendorCode: VENDOR.vendorCode, apiKey: VENDOR.apiKey }),
  );
  assert.equal(res.status, 200, res.text);
  const body = res.json();
  assert.equal(body.status, "success");
  return held("firstock", body.data.susertoken);
}

function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  };
}

async function signInAssets(p: Person): Promise<Held> {
  const res = await call(`${server.publicUrl}/services/login`, form({ username: p.username, password: PASSWORD }, { "sec-fetch-site": "same-origin" }));
  assert.equal(res.status, 200, res.text);
  const body = res.json();
  assert.equal(body.loginSuccess, true, res.text);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("authToken="));
  assert.ok(cookie, "the authToken cookie is set");
  const token = decodeURIComponent(cookie.slice("authToken=".length).split(";", 1)[0]!);
  const session = held("assets", token, body.csrfToken);
  assert.equal(body.csrfToken, new Proofs(TEST_SECRET).mint("csrf", session.id), "csrfToken is bound to the session");
  return session;
}

async function signInAssetsApi(p: Person): Promise<Held> {
  const res = await call(`${server.publicUrl}/services/apilogin`, form({ username: p.email, password: PASSWORD }));
  assert.equal(res.status, 200, res.text);
  const body = res.json();
  assert.equal(body.loginSuccess, true, res.text);
  return held("assets-api", body.authToken);
}

function begin(door: BeginDoor, p: Person): Promise<Held> {
  switch (door) {
    case "kratos":
      return signInKratos(p);
    case "firstock":
      return signInFirstock(p);
    case "assets":
      return signInAssets(p);
    case "assets-api":
      return signInAssetsApi(p);
  }
}

function assetsAuth(s: Held): Record<string, string> {
  return s.assetsCarrier === "cookie" ? { cookie: `authToken=${s.token}` } : { authorization: `Bearer ${s.token}` };
}

// ---- the checks: each door's own "is this session live?" ----------------------------------

type CheckDoor = "kratos" | "firstock" | "assets";

interface Check {
  door: CheckDoor;
  label: string;
  /** true: the door accepts the session; false: it refuses it (and says so in its own words). */
  live(p: Person, s: Held): Promise<boolean>;
}

const CHECKS: readonly Check[] = [
  {
    door: "kratos",
    label: "kratos whoami",
    async live(_p, s) {
      const res = await whoami({ "x-session-token": s.token });
      if (res.status === 401) return false;
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.equal(body.id, s.id);
      assert.equal(body.active, true);
      assert.equal(body.door, s.door, "D7: whoami names the door the session began at");
      return true;
    },
  },
  {
    door: "firstock",
    label: "firstock userDetails",
    async live(p, s) {
      const res = await call(`${server.publicUrl}/api/V4/userDetails`, jsonBody({ userId: p.username, jKey: s.token }));
      const body = res.json();
      if (res.status === 401) {
        assert.equal(body.name, "INVALID_JKEY", res.text);
        return false;
      }
      assert.equal(res.status, 200, res.text);
      assert.equal(body.status, "success");
      assert.equal(body.data.email, p.email);
      return true;
    },
  },
  {
    door: "assets",
    label: "assets /services/profile",
    async live(p, s) {
      const res = await call(`${server.publicUrl}/services/profile`, { headers: assetsAuth(s) });
      const body = res.json();
      if (res.status === 401) {
        assert.equal(body.errorcode, 401, res.text);
        return false;
      }
      assert.equal(res.status, 200, res.text);
      assert.equal(body.email, p.email);
      return true;
    },
  },
];

async function assertLiveEverywhere(p: Person, s: Held, why: string): Promise<void> {
  for (const check of CHECKS) assert.equal(await check.live(p, s), true, `${why}: ${check.label} should accept the ${s.begunAt} session`);
}

async function assertDeadEverywhere(p: Person, s: Held, why: string): Promise<void> {
  for (const check of CHECKS) assert.equal(await check.live(p, s), false, `${why}: ${check.label} should refuse the ${s.begunAt} session`);
}

// ---- the ends: every way a session can end, through every door ------------------------------

type Scope = "one" | "others" | "all";

interface End {
  label: string;
  /** "one": only the target; "others": all but the caller (the bystander); "all": every session. */
  scope: Scope;
  /** The audit's door for this end: the door it came through, null for the admin API. */
  auditDoor: (target: Held) => Door | null;
  reason: "logout" | "revoked_by_user" | "revoked_by_admin" | "identity_deleted";
  actor: "self" | "admin";
  /** Ends `target`; `bystander` is another live session of the same identity (some ends act through it). */
  run(p: Person, target: Held, bystander: Held): Promise<void>;
}

const ENDS: readonly End[] = [
  {
    label: "kratos native logout",
    scope: "one",
    auditDoor: () => "kratos",
    reason: "logout",
    actor: "self",
    async run(_p, target) {
      const res = await call(`${server.publicUrl}/self-service/logout/api`, {
        method: "DELETE",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ session_token: target.token }),
      });
      assert.equal(res.status, 204, res.text);
    },
  },
  {
    label: "kratos DELETE /sessions/{id} from another session",
    scope: "one",
    auditDoor: () => "kratos",
    reason: "revoked_by_user",
    actor: "self",
    async run(_p, target, bystander) {
      const res = await call(`${server.publicUrl}/sessions/${target.id}`, {
        method: "DELETE",
        headers: { accept: "application/json", "x-session-token": bystander.token },
      });
      assert.equal(res.status, 204, res.text);
    },
  },
  {
    label: "kratos DELETE /sessions (others)",
    scope: "others",
    auditDoor: () => "kratos",
    reason: "revoked_by_user",
    actor: "self",
    async run(_p, _target, bystander) {
      const res = await call(`${server.publicUrl}/sessions`, {
        method: "DELETE",
        headers: { accept: "application/json", "x-session-token": bystander.token },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), { count: 1 });
    },
  },
  {
    label: "firstock logout",
    scope: "one",
    auditDoor: () => "firstock",
    reason: "logout",
    actor: "self",
    async run(p, target) {
      const res = await call(`${server.publicUrl}/api/V4/logout`, jsonBody({ userId: p.username, jKey: target.token }));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), { status: "success", data: "Successfully logged out" });
    },
  },
  {
    label: "assets /services/logout",
    scope: "one",
    auditDoor: () => "assets",
    reason: "logout",
    actor: "self",
    async run(_p, target) {
      // A cookie session proves itself with X-CSRF-TOKEN (and a same-site request); a bearer needs neither.
      const headers: Record<string, string> = { ...assetsAuth(target) };
      if (target.assetsCarrier === "cookie") Object.assign(headers, { "x-csrf-token": target.csrf, "sec-fetch-site": "same-origin" });
      const res = await call(`${server.publicUrl}/services/logout`, { method: "POST", headers });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json(), { logoutSuccess: true });
      if (target.assetsCarrier === "cookie") assert.ok(res.headers.getSetCookie().some((c) => /^authToken=;/.test(c)), "the cookie is cleared");
    },
  },
  {
    label: "assets GET /logout same-origin",
    scope: "one",
    auditDoor: () => "assets",
    reason: "logout",
    actor: "self",
    async run(_p, target) {
      const res = await call(`${server.publicUrl}/logout?logoutSuccessUrl=${encodeURIComponent("/ui/logged-out")}`, {
        headers: { ...assetsAuth(target), "sec-fetch-site": "same-origin" },
      });
      assert.equal(res.status, 302, res.text);
      assert.equal(res.headers.get("location"), new URL("/ui/logged-out", server.config.baseUrl).href);
    },
  },
  {
    label: "admin DELETE /admin/sessions/{id}",
    scope: "one",
    auditDoor: () => null,
    reason: "revoked_by_admin",
    actor: "admin",
    async run(_p, target) {
      const res = await call(`${server.adminUrl}/admin/sessions/${target.id}`, { method: "DELETE", headers: { accept: "application/json" } });
      assert.equal(res.status, 204, res.text);
    },
  },
  {
    label: "admin DELETE /admin/identities/{id}/sessions",
    scope: "all",
    auditDoor: () => null,
    reason: "revoked_by_admin",
    actor: "admin",
    async run(p) {
      const res = await call(`${server.adminUrl}/admin/identities/${p.id}/sessions`, { method: "DELETE", headers: { accept: "application/json" } });
      assert.equal(res.status, 204, res.text);
    },
  },
  {
    label: "admin DELETE /admin/identities/{id}",
    scope: "all",
    auditDoor: () => null,
    reason: "identity_deleted",
    actor: "admin",
    async run(p) {
      const res = await call(`${server.adminUrl}/admin/identities/${p.id}`, { method: "DELETE", headers: { accept: "application/json" } });
      assert.equal(res.status, 204, res.text);
    },
  },
];

/** The bystander of a target begun at `door`: a session of the same identity begun at another door. */
const BYSTANDER_OF: Record<BeginDoor, BeginDoor> = { kratos: "firstock", firstock: "assets", assets: "assets-api", "assets-api": "kratos" };

async function auditTrail(identityId: string): Promise<AuditEvent[]> {
  return (await server.server.store.listAuditEvents({ identityId, limit: 100 })).items;
}

function assertBegun(events: AuditEvent[], s: Held): void {
  const begun = events.filter((e) => e.type === "session.begun" && e.sessionId === s.id);
  assert.equal(begun.length, 1, `one session.begun for the ${s.begunAt} session`);
  assert.equal(begun[0]!.door, s.door);
  assert.equal(begun[0]!.actor, s.door);
}

function endedOf(events: AuditEvent[], s: Held): AuditEvent[] {
  return events.filter((e) => e.type === "session.ended" && e.sessionId === s.id);
}

function assertEnded(events: AuditEvent[], s: Held, end: End, target: Held): void {
  const ended = endedOf(events, s);
  assert.equal(ended.length, 1, `one session.ended for the ${s.begunAt} session`);
  const e = ended[0]!;
  assert.deepEqual(
    { door: e.door, reason: e.reason, actor: e.actor },
    { door: end.auditDoor(target), reason: end.reason, actor: end.actor },
    `the ${s.begunAt} session's end is recorded with its door and reason`,
  );
}

// ---- the matrix -------------------------------------------------------------------------------

describe("INV-2 the cross-door matrix: ended through any door, refused by every door", () => {
  for (const beginAt of BEGIN_DOORS) {
    for (const end of ENDS) {
      for (const check of CHECKS) {
        it(`INV-2: a session begun at ${beginAt} and ended by ${end.label} is refused by ${check.label}`, async () => {
          const p = await createPerson();
          const target = await begin(beginAt, p);
          const bystander = await begin(BYSTANDER_OF[beginAt], p);

          assert.equal(await check.live(p, target), true, `before the end, ${check.label} accepts the session`);
          await end.run(p, target, bystander);
          assert.equal(await check.live(p, target), false, `after ${end.label}, ${check.label} refuses the session`);
          // Not this door only: every door refuses it now.
          await assertDeadEverywhere(p, target, end.label);

          if (end.scope === "all") await assertDeadEverywhere(p, bystander, `${end.label} ends every session`);
          else await assertLiveEverywhere(p, bystander, `${end.label} leaves an unrelated session alone`);

          const events = await auditTrail(p.id);
          assertBegun(events, target);
          assertBegun(events, bystander);
          assertEnded(events, target, end, target);
          if (end.scope === "all") assertEnded(events, bystander, end, target);
          else assert.deepEqual(endedOf(events, bystander), [], "no end is recorded for the untouched session");
          if (end.reason === "identity_deleted") {
            assert.equal(events.filter((e) => e.type === "identity.deleted").length, 1);
          }
        });
      }
    }
  }
});

// ---- D7: which door, in every session list ----------------------------------------------------

/** Every page of an admin session list, following Kratos's `Link: rel="next"`. */
async function allPages(url: string): Promise<any[]> {
  const items: any[] = [];
  let next: string | null = url;
  while (next) {
    const res = await call(next, { headers: { accept: "application/json" } });
    assert.equal(res.status, 200, res.text);
    items.push(...res.json());
    const link = res.headers.get("link") ?? "";
    const m = /<([^>]+)>; rel="next"/.exec(link);
    // Links carry the public base URL; the list itself is on the admin listener.
    next = m ? `${new URL(url).origin}${new URL(m[1]!).pathname}${new URL(m[1]!).search}` : null;
  }
  return items;
}

describe("D7 every session list shows each session with its door", () => {
  let p: Person;
  let sessions: Held[];

  before(async () => {
    p = await createPerson();
    sessions = [];
    for (const door of BEGIN_DOORS) sessions.push(await begin(door, p));
  });

  it("D7: kratos GET /sessions shows the caller's other sessions, each with its door, whichever door the caller began at", async () => {
    for (const caller of sessions) {
      const res = await call(`${server.publicUrl}/sessions`, { headers: { accept: "application/json", "x-session-token": caller.token } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("x-total-count"), String(sessions.length - 1));
      const listed = new Map<string, string>(res.json().map((s: { id: string; door: string }) => [s.id, s.door]));
      const expected = new Map(sessions.filter((s) => s !== caller).map((s) => [s.id, s.door]));
      assert.deepEqual(listed, expected, `as seen from the ${caller.begunAt} session`);
    }
  });

  it("D7: kratos whoami shows the caller's own door", async () => {
    for (const s of sessions) {
      const res = await whoami({ "x-session-token": s.token });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().door, s.door);
    }
  });

  it("D7: admin GET /admin/sessions and /admin/identities/{id}/sessions show every session with its door", async () => {
    const all = await allPages(`${server.adminUrl}/admin/sessions?page_size=100&expand=identity`);
    for (const s of sessions) {
      const found = all.filter((x) => x.id === s.id);
      assert.equal(found.length, 1, `the ${s.begunAt} session is listed once`);
      assert.equal(found[0].door, s.door);
      assert.equal(found[0].active, true);
      assert.equal(found[0].identity.id, p.id);
    }
    const mine = await allPages(`${server.adminUrl}/admin/identities/${p.id}/sessions`);
    assert.deepEqual(
      new Map(mine.map((s: { id: string; door: string }) => [s.id, s.door])),
      new Map(sessions.map((s) => [s.id, s.door])),
    );
    for (const s of sessions) {
      const res = await call(`${server.adminUrl}/admin/sessions/${s.id}`, { headers: { accept: "application/json" } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json().door, s.door);
    }
  });

  it("D7: an ended session keeps its door in the admin list, shown inactive", async () => {
    const firstock = sessions.find((s) => s.begunAt === "firstock")!;
    const res = await call(`${server.publicUrl}/api/V4/logout`, jsonBody({ userId: p.username, jKey: firstock.token }));
    assert.equal(res.status, 200, res.text);
    // "A Firstock logout shows the session ended in the Kratos admin API."
    const one = await call(`${server.adminUrl}/admin/sessions/${firstock.id}`, { headers: { accept: "application/json" } });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json().active, false);
    assert.equal(one.json().door, "firstock");
    const inactive = await allPages(`${server.adminUrl}/admin/identities/${p.id}/sessions?active=false`);
    assert.deepEqual(inactive.map((s: { id: string; door: string; active: boolean }) => [s.id, s.door, s.active]), [[firstock.id, "firstock", false]]);
    const active = await allPages(`${server.adminUrl}/admin/identities/${p.id}/sessions?active=true`);
    assert.equal(active.length, sessions.length - 1);
    assert.ok(active.every((s: { id: string }) => s.id !== firstock.id));
    // And it is gone from the caller's own list at the Kratos door.
    const kratos = sessions.find((s) => s.begunAt === "kratos")!;
    const own = await call(`${server.publicUrl}/sessions`, { headers: { accept: "application/json", "x-session-token": kratos.token } });
    assert.ok(own.json().every((s: { id: string }) => s.id !== firstock.id));
  });
});

// ---- D1: any Curfew token at the Kratos door ------------------------------------------------

/** The two token carriers of the Kratos door besides its cookie (X-Session-Token, Authorization: Bearer). */
function tokenCarriers(token: string): Record<string, string>[] {
  return [{ "x-session-token": token }, { authorization: `Bearer ${token}` }];
}

/** Kratos whoami accepts the session in both carriers, as the identity's session begun at `door`. */
async function assertWhoamiInCarriers(p: Person, s: Held, door: Door): Promise<void> {
  for (const headers of tokenCarriers(s.token)) {
    const res = await whoami(headers);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().id, s.id);
    assert.equal(res.json().identity.id, p.id);
    assert.equal(res.json().door, door);
  }
}

describe("D1 any Curfew session token works at the Kratos door", () => {
  it("D1: a Firstock jKey passes Kratos whoami as X-Session-Token and as Bearer", async () => {
    const p = await createPerson();
    await assertWhoamiInCarriers(p, await signInFirstock(p), "firstock");
  });

  it("D1: an Assets authToken (cookie login and apilogin) passes Kratos whoami as X-Session-Token and as Bearer", async () => {
    const p = await createPerson();
    for (const s of [await signInAssets(p), await signInAssetsApi(p)]) await assertWhoamiInCarriers(p, s, "assets");
  });

  it("D1: a Kratos session token works in the Firstock and Assets carriers", async () => {
    const p = await createPerson();
    const s = await signInKratos(p, p.username);
    await assertLiveEverywhere(p, s, "a Kratos session token");
    const bearer = await call(`${server.publicUrl}/services/profile`, { headers: { authorization: `Bearer ${s.token}` } });
    assert.equal(bearer.status, 200, bearer.text);
  });

  it("D1: a token ended at the Kratos door is dead in every carrier of every door", async () => {
    const p = await createPerson();
    const s = await signInFirstock(p);
    const res = await call(`${server.publicUrl}/self-service/logout/api`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session_token: s.token }),
    });
    assert.equal(res.status, 204, res.text);
    for (const headers of [...tokenCarriers(s.token), { cookie: `ory_kratos_session=${s.token}` }]) {
      const who = await whoami(headers);
      assert.equal(who.status, 401, who.text);
    }
    for (const headers of [{ authorization: `Bearer ${s.token}` }, { cookie: `authToken=${s.token}` }] as Record<string, string>[]) {
      const profile = await call(`${server.publicUrl}/services/profile`, { headers });
      assert.equal(profile.status, 401, profile.text);
    }
    // Firstock says what it says for any dead jKey, a repeat logout included.
    const again = await call(`${server.publicUrl}/api/V4/logout`, jsonBody({ userId: p.username, jKey: s.token }));
    assert.equal(again.status, 401, again.text);
    assert.equal(again.json().name, "INVALID_JKEY");
  });
});

// ---- the audit trail, end to end ------------------------------------------------------------

describe("the audit trail records every begin and end with its door and reason", () => {
  it("audit: one identity, sessions at every door, ended through every door, then the identity deleted", async () => {
    const p = await createPerson();
    const [k, f, a, api, k2, f2] = [
      await begin("kratos", p),
      await begin("firstock", p),
      await begin("assets", p),
      await begin("assets-api", p),
      await begin("kratos", p),
      await begin("firstock", p),
    ];
    // The Firstock door ends the Kratos session; the Kratos door the Firstock one; the Assets
    // door the apilogin one; the admin API the Assets cookie one; identity deletion the rest.
    assert.equal((await call(`${server.publicUrl}/api/V4/logout`, jsonBody({ userId: p.email, jKey: k!.token }))).status, 200);
    assert.equal((await call(`${server.publicUrl}/sessions/${f!.id}`, { method: "DELETE", headers: { "x-session-token": k2!.token } })).status, 204);
    assert.equal((await call(`${server.publicUrl}/services/logout`, { method: "POST", headers: { authorization: `Bearer ${api!.token}` } })).status, 200);
    assert.equal((await call(`${server.adminUrl}/admin/sessions/${a!.id}`, { method: "DELETE" })).status, 204);
    assert.equal((await call(`${server.adminUrl}/admin/identities/${p.id}`, { method: "DELETE" })).status, 204);

    const events = await auditTrail(p.id);
    const summary = (e: AuditEvent) => [e.type, e.sessionId, e.door, e.reason, e.actor];
    const begun = events.filter((e) => e.type === "session.begun").map(summary);
    assert.deepEqual(
      new Set(begun.map((b) => JSON.stringify(b))),
      new Set(
        [k, f, a, api, k2, f2].map((s) => JSON.stringify(["session.begun", s!.id, s!.door, null, s!.door])),
      ),
      "one session.begun per sign-in, with its door",
    );
    assert.equal(begun.length, 6);
    const ended = events.filter((e) => e.type === "session.ended").map(summary);
    assert.equal(ended.length, 6, "one session.ended per session, none twice");
    assert.deepEqual(
      new Set(ended.map((x) => JSON.stringify(x))),
      new Set(
        [
          ["session.ended", k!.id, "firstock", "logout", "self"],
          ["session.ended", f!.id, "kratos", "revoked_by_user", "self"],
          ["session.ended", api!.id, "assets", "logout", "self"],
          ["session.ended", a!.id, null, "revoked_by_admin", "admin"],
          ["session.ended", k2!.id, null, "identity_deleted", "admin"],
          ["session.ended", f2!.id, null, "identity_deleted", "admin"],
        ].map((x) => JSON.stringify(x)),
      ),
    );
    assert.equal(events.filter((e) => e.type === "identity.created").length, 1);
    assert.equal(events.filter((e) => e.type === "identity.deleted").length, 1);
    // The sessions outlive the identity as revoked rows (D6), each still saying its door (D7).
    for (const s of [k, f, a, api, k2, f2]) {
      const res = await call(`${server.adminUrl}/admin/sessions/${s!.id}`, { headers: { accept: "application/json" } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.json().active, res.json().door], [false, s!.door]);
    }
  });
});
