/**
 * Bad input at the Firstock door (BAD-J01..J25 as they apply; SEC-50,
 * SEC-66..SEC-70, SEC-73). Every answer is the Firstock failure envelope with `code` equal to the
 * HTTP status as a string, never a 5xx, and nothing changes: two live jKeys (Alice's and Bob's)
 * keep working after every case, no session is revoked and none is created.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import type { InjectOptions } from "fastify";
import {
  type Firstock,
  INVALID_JKEY,
  INVALID_PASSWORD,
  PASSWORD,
  assertFailure,
  assertJKeyLive,
  loginBody,
  send,
  firstockFor,
  signInFirstock,
  startFirstock,
} from "../../../test/support/firstock.ts";
import { captureLogs, createIdentity } from "../../../test/support/kratos.ts";

const JSON_TYPE = { "content-type": "application/json" };
const ALICE = { email: "Alice.Firstock@Example.COM", username: "AA0013" };
const BOB = { email: "bob.firstock@example.com", username: "BB0042" };

let f: Firstock;
let aliceKey = "";
let bobKey = "";
let aliceId = "";
let bobId = "";
let baseline = { alice: 0, bob: 0 };

before(async () => {
  f = await startFirstock();
  aliceId = (await createIdentity(f.adm, ALICE)).id;
  bobId = (await createIdentity(f.adm, BOB)).id;
  aliceKey = (await signInFirstock(f.pub, ALICE.username)).susertoken;
  bobKey = (await signInFirstock(f.pub, BOB.username)).susertoken;
  baseline = { alice: await sessionCount(aliceId), bob: await sessionCount(bobId) };
});

after(async () => {
  await f?.close();
});

function sessionCount(identityId: string, active?: boolean): Promise<number> {
  return f.t.server.core.sessions.count({ identityId, ...(active === undefined ? {} : { active }) });
}

/** Nothing changed: both jKeys live, no session of either ended or added. */
async function assertNothingChanged(label: string): Promise<void> {
  await assertJKeyLive(f.pub, ALICE.username, aliceKey).catch((e: unknown) => assert.fail(`${label}: Alice's jKey died: ${String(e)}`));
  await assertJKeyLive(f.pub, BOB.username, bobKey).catch((e: unknown) => assert.fail(`${label}: Bob's jKey died: ${String(e)}`));
  assert.equal(await sessionCount(aliceId, false), 0, `${label}: a session of Alice ended`);
  assert.equal(await sessionCount(bobId, false), 0, `${label}: a session of Bob ended`);
  assert.equal(await sessionCount(aliceId), baseline.alice, `${label}: a session of Alice was created`);
  assert.equal(await sessionCount(bobId), baseline.bob, `${label}: a session of Bob was created`);
}

type Route = "login" | "logout" | "userDetails";

interface Case {
  name: string;
  route?: Route;
  method?: InjectOptions["method"];
  url?: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
  status: number | readonly number[];
  errorName?: string;
}

/** Runs a case against its route (default: every route) and proves nothing changed. */
async function run(c: Case, routes: readonly Route[] = c.route ? [c.route] : ["logout", "userDetails", "login"]): Promise<void> {
  for (const route of routes) {
    const label = `${c.name} at ${route}`;
    const res = await send(f.pub, {
      method: c.method ?? "POST",
      url: c.url ?? `/api/V4/${route}`,
      headers: c.headers ?? JSON_TYPE,
      ...(c.payload !== undefined ? { payload: c.payload } : {}),
    });
    assert.ok(res.statusCode < 500, `${label}: ${res.statusCode} ${res.body}`);
    assert.notEqual(res.statusCode, 200, `${label}: accepted`);
    if ((c.method ?? "POST") === "HEAD") {
      assert.equal(res.statusCode, 405, label);
    } else {
      const body = assertFailure(res, c.status, c.errorName);
      // No key material comes back in an error (SEC-66): neither jKey, nor a password digest.
      assert.ok(!res.body.includes(aliceKey) && !res.body.includes(bobKey), `${label}: a jKey was echoed`);
      assert.ok(!res.body.includes(loginBody("x").password), `${label}: the digest was echoed`);
      assert.ok(body.error.message.length < 200, `${label}: the message is long: ${body.error.message}`);
    }
    await assertNothingChanged(label);
  }
}

const json = (value: unknown) => JSON.stringify(value);
const aliceLogout = () => ({ userId: ALICE.username, jKey: aliceKey });

describe("BAD-J01..J05: bodies that are not one small JSON object → 400 or 413", () => {
  test("BAD-J01: an empty body with Content-Type: application/json → 400", async () => {
    await run({ name: "empty body", payload: "", status: 400, errorName: "BAD_REQUEST" });
    await run({ name: "whitespace body", payload: "  \r\n ", status: 400, errorName: "BAD_REQUEST" });
  });

  test("BAD-J02: truncated or invalid JSON, and a byte-order mark → 400, no parser message echoed", async () => {
    for (const payload of [
      "{",
      `{"userId":"${ALICE.username}",`,
      `{"userId":"${ALICE.username}",}`,
      "NaN",
      "'single'",
      `{'userId':'${ALICE.username}'}`,
      `{"userId":"${ALICE.username}","jKey":"x"} trailing`,
      "\ufeff" + json(aliceLogout()),
    ]) {
      await run({ name: `body ${JSON.stringify(payload.slice(0, 30))}`, payload, status: 400, errorName: "BAD_REQUEST" });
    }
  });

  test("BAD-J03: valid JSON whose top level is not an object → 400", async () => {
    for (const payload of ["[]", `[${json(aliceLogout())}]`, '"str"', "null", "1", "true", "false"]) {
      await run({ name: `top level ${payload.slice(0, 20)}`, payload, status: 400, errorName: "BAD_REQUEST" });
    }
  });

  test("BAD-J04: a 100 KB and a 10 MB body → 413", async () => {
    await run({ name: "100 KB", payload: json({ userId: ALICE.username, jKey: aliceKey, pad: "x".repeat(100 * 1024) }), status: 413, errorName: "PAYLOAD_TOO_LARGE" });
    await run({ name: "10 MB", route: "logout", payload: "[".repeat(10 * 1024 * 1024), status: 413, errorName: "PAYLOAD_TOO_LARGE" });
  });

  test("BAD-J05: deeply nested JSON → 400 within the limit, 413 beyond it; no stack overflow", async () => {
    await run({ name: "depth 1000", payload: '{"a":'.repeat(1000) + "1" + "}".repeat(1000), status: 400, errorName: "BAD_REQUEST" });
    await run({ name: "depth 5000 arrays", payload: "[".repeat(5000) + "]".repeat(5000), status: 400, errorName: "BAD_REQUEST" });
    await run({ name: "depth 100000", route: "logout", payload: '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000), status: [400, 413] });
  });
});

describe("BAD-J06..J08: content type, charset, encoding, bytes → 415 or 400", () => {
  const body = () => json(aliceLogout());

  test("BAD-J06: no Content-Type, text/plain, a form, multipart → 415, even with a valid body", async () => {
    await run({ name: "no Content-Type", headers: {}, payload: body(), status: 415, errorName: "UNSUPPORTED_MEDIA_TYPE" });
    await run({ name: "text/plain", headers: { "content-type": "text/plain" }, payload: body(), status: 415, errorName: "UNSUPPORTED_MEDIA_TYPE" });
    await run({ name: "text/plain;charset=UTF-8", headers: { "content-type": "text/plain;charset=UTF-8" }, payload: body(), status: 415 });
    await run({
      name: "form",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `userId=${ALICE.username}&jKey=${encodeURIComponent(aliceKey)}`,
      status: 415,
      errorName: "UNSUPPORTED_MEDIA_TYPE",
    });
    await run({
      name: "multipart",
      headers: { "content-type": "multipart/form-data; boundary=X" },
      payload: `--X\r\nContent-Disposition: form-data; name="userId"\r\n\r\n${ALICE.username}\r\n--X--\r\n`,
      status: 415,
    });
    await run({ name: "application/xml", headers: { "content-type": "application/xml" }, payload: "<logout/>", status: 415 });
    await run({ name: "application/jsonx", headers: { "content-type": "application/jsonx" }, payload: body(), status: 415 });
  });

  test("BAD-J06: application/json; charset=utf-7 (and latin1) → 415", async () => {
    await run({ name: "utf-7", headers: { "content-type": "application/json; charset=utf-7" }, payload: body(), status: 415, errorName: "UNSUPPORTED_MEDIA_TYPE" });
    await run({ name: "iso-8859-1", headers: { "content-type": "application/json; charset=iso-8859-1" }, payload: body(), status: 415 });
  });

  test("BAD-J07: Content-Encoding gzip (a bomb included) → 415, never inflated, never read as plain JSON", async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)); // 8 MiB of spaces in ~8 KB
    assert.ok(bomb.length < 16 * 1024);
    await run({ name: "gzip bomb", headers: { ...JSON_TYPE, "content-encoding": "gzip" }, payload: bomb, status: 415, errorName: "UNSUPPORTED_MEDIA_TYPE" });
    await run({ name: "gzip JSON", headers: { ...JSON_TYPE, "content-encoding": "gzip" }, payload: gzipSync(body()), status: 415 });
    await run({ name: "plain JSON labelled gzip", headers: { ...JSON_TYPE, "content-encoding": "gzip" }, payload: body(), status: 415 });
    await run({ name: "deflate", route: "logout", headers: { ...JSON_TYPE, "content-encoding": "deflate" }, payload: body(), status: 415 });
  });

  test("BAD-J08: invalid UTF-8 inside a string → 400", async () => {
    for (const bytes of [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const payload = Buffer.concat([Buffer.from(`{"userId":"${ALICE.username}`), Buffer.from(bytes), Buffer.from(`","jKey":"${aliceKey}"}`)]);
      await run({ name: `bytes ${bytes.join(",")}`, route: "logout", payload, status: 400, errorName: "BAD_REQUEST" });
    }
  });
});

describe("BAD-J09..J15: fields of the wrong shape → 400 (401 where the field is a well-formed string)", () => {
  test("BAD-J09, BAD-J13: userId missing, empty, too long, or not a string → 400", async () => {
    for (const userId of [undefined, "", "x".repeat(10 * 1024), 13, 0, ["AA0013"], { $ne: null }, true, false, null]) {
      const payload = json({ userId, jKey: aliceKey });
      for (const route of ["logout", "userDetails"] as const) {
        await run({ name: `userId ${JSON.stringify(userId)?.slice(0, 20)}`, route, payload, status: 400, errorName: "BAD_REQUEST" });
      }
      await run({ name: `login userId ${JSON.stringify(userId)?.slice(0, 20)}`, route: "login", payload: json({ ...loginBody(ALICE.username), userId }), status: 400 });
    }
  });

  test("BAD-J09: a blank userId is no user: 400 or 401, never anyone's session", async () => {
    await run({ name: "userId blank", route: "logout", payload: json({ userId: " ", jKey: aliceKey }), status: [400, 401] });
    await run({ name: "userId blank", route: "login", payload: json({ ...loginBody(ALICE.username), userId: "   " }), status: [400, 401] });
  });

  test("BAD-J10: jKey missing, too long, or with NUL or CR/LF → 400/401, the same INVALID_JKEY as any dead key", async () => {
    for (const route of ["logout", "userDetails"] as const) {
      await run({ name: "jKey missing", route, payload: json({ userId: ALICE.username }), status: 400, errorName: "BAD_REQUEST" });
      await run({ name: "jKey 10 KB", route, payload: json({ userId: ALICE.username, jKey: "k".repeat(10 * 1024) }), status: 400 });
      for (const jKey of ["", aliceKey + "\u0000", aliceKey + "\r\nX-Injected: 1", `${aliceKey}\n`, " " + aliceKey]) {
        const res = await send(f.pub, { method: "POST", url: `/api/V4/${route}`, headers: JSON_TYPE, payload: json({ userId: ALICE.username, jKey }) });
        assert.equal(res.statusCode, 401, `${route} ${JSON.stringify(jKey.slice(-15))}`);
        assert.equal(res.body, INVALID_JKEY);
        assert.equal(res.headers["x-injected"], undefined);
        await assertNothingChanged(`jKey ${JSON.stringify(jKey.slice(-15))} at ${route}`);
      }
    }
  });

  test("BAD-J11: an unknown extra field → 400, and it is never used", async () => {
    for (const route of ["logout", "userDetails"] as const) {
      await run({ name: "extra field", route, payload: json({ ...aliceLogout(), extra: "1" }), status: 400, errorName: "BAD_REQUEST" });
      await run({ name: "userToken (V5 name)", route, payload: json({ ...aliceLogout(), userToken: aliceKey, type: "API" }), status: 400 });
    }
    await run({ name: "login extra field", route: "login", payload: json({ ...loginBody(ALICE.username), source: "API" }), status: 400 });
  });

  test("BAD-J12 (SEC-70): duplicate keys → 400, whichever value is whose", async () => {
    await run({ name: "duplicate userId", payload: `{"userId":"${BOB.username}","userId":"${ALICE.username}","jKey":"${aliceKey}"}`, route: "logout", status: 400, errorName: "BAD_REQUEST" });
    await run({ name: "duplicate userId (A,B)", payload: `{"userId":"A","userId":"B","jKey":"${aliceKey}"}`, route: "userDetails", status: 400 });
    await run({ name: "duplicate jKey", payload: `{"userId":"${ALICE.username}","jKey":"${bobKey}","jKey":"${aliceKey}"}`, route: "logout", status: 400 });
    await run({
      name: "duplicate escaped key",
      payload: `{"userId":"${ALICE.username}","jKey":"${aliceKey}","j\\u004bey":"${aliceKey}"}`,
      route: "logout",
      status: 400,
    });
    const login = loginBody(ALICE.username);
    await run({ name: "duplicate password", route: "login", payload: `${json(login).slice(0, -1)},"password":"${login.password}"}`, status: 400 });
  });

  test("BAD-J14: jKey as an operator object, an array or a number → 400, nothing revoked", async () => {
    for (const jKey of [{ $ne: null }, { $gt: "" }, [aliceKey, bobKey], [aliceKey], 1, true, null]) {
      for (const route of ["logout", "userDetails"] as const) {
        await run({ name: `jKey ${JSON.stringify(jKey).slice(0, 20)}`, route, payload: json({ userId: ALICE.username, jKey }), status: 400, errorName: "BAD_REQUEST" });
      }
    }
    for (const field of ["password", "TOTP", "vendorCode", "apiKey"]) {
      for (const value of [{ $ne: null }, ["x"], 123456, true, null]) {
        await run({ name: `login ${field} ${JSON.stringify(value)}`, route: "login", payload: json({ ...loginBody(ALICE.username), [field]: value }), status: 400 });
      }
    }
  });

  test("BAD-J15 (SEC-73): __proto__, constructor and prototype keys → 400; the pollution canary is unchanged", async () => {
    for (const payload of [
      `{"userId":"${ALICE.username}","jKey":"${aliceKey}","__proto__":{"isAdmin":true,"polluted":"yes"}}`,
      `{"__proto__":{"polluted":"yes"},"userId":"${ALICE.username}","jKey":"${aliceKey}"}`,
      `{"userId":"${ALICE.username}","jKey":"${aliceKey}","constructor":{"prototype":{"polluted":"yes"}}}`,
      `{"userId":"${ALICE.username}","jKey":"${aliceKey}","prototype":{"polluted":"yes"}}`,
      `{"userId":"${ALICE.username}","jKey":"${aliceKey}","\\u005f_proto__":{"polluted":"yes"}}`,
    ]) {
      await run({ name: `pollution ${payload.slice(-40)}`, payload, status: 400, errorName: "BAD_REQUEST" });
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    const health = await f.pub.inject({ method: "GET", url: "/health/alive" });
    assert.equal(health.body, '{"status":"ok"}');
  });
});

describe("BAD-J16..J25: wrong pairs, wrong places, wrong methods", () => {
  test("BAD-J17: SQL and NoSQL meta-characters in both fields → 401 (or 400), parameterised all the way", async () => {
    const nasty = ["' OR 1=1 --", '"; DROP TABLE sessions; --', "AA0013' --", "%", "_", "*", "AA0013\\", "$where", "{\"$ne\":null}"];
    for (const s of nasty) {
      for (const route of ["logout", "userDetails"] as const) {
        await run({ name: `userId ${s}`, route, payload: json({ userId: s, jKey: aliceKey }), status: [400, 401] });
        await run({ name: `jKey ${s}`, route, payload: json({ userId: ALICE.username, jKey: s }), status: [400, 401] });
        await run({ name: `jKey id ${s}`, route, payload: json({ userId: ALICE.username, jKey: `${s}.${aliceKey.split(".")[1]}` }), status: [400, 401] });
      }
      const res = await send(f.pub, { method: "POST", url: "/api/V4/login", headers: JSON_TYPE, payload: json(loginBody(s)) });
      assert.equal(res.body, INVALID_PASSWORD, `login ${s}`);
    }
    await assertNothingChanged("SQL meta-characters");
  });

  test("BAD-J22: a jKey in the query string with an empty body → 400/415; the query is ignored", async () => {
    const query = `?userId=${ALICE.username}&jKey=${encodeURIComponent(aliceKey)}`;
    for (const route of ["logout", "userDetails"] as const) {
      await run({ name: "query, JSON type, empty body", route, url: `/api/V4/${route}${query}`, payload: "", status: [400, 415] });
      await run({ name: "query, no type, no body", route, url: `/api/V4/${route}${query}`, headers: {}, status: [400, 415] });
      await run({ name: "query, empty object", route, url: `/api/V4/${route}${query}`, payload: "{}", status: 400 });
    }
  });

  test("BAD-J23 (SEC-69): GET, PUT, DELETE, PATCH, HEAD, OPTIONS on a door route → 405 with Allow: POST", async () => {
    for (const route of ["logout", "login", "userDetails"] as const) {
      for (const method of ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const) {
        const withBody = method === "PUT" || method === "PATCH" || method === "DELETE";
        const res = await send(f.pub, {
          method,
          url: `/api/V4/${route}`,
          ...(withBody ? { headers: JSON_TYPE, payload: json(aliceLogout()) } : {}),
        });
        assert.equal(res.statusCode, 405, `${method} ${route}: ${res.body}`);
        assert.equal(res.headers.allow, "POST");
        if (method !== "HEAD") assertFailure(res, 405, "METHOD_NOT_ALLOWED");
      }
      // The query string does not change the answer.
      const q = await send(f.pub, { method: "GET", url: `/api/V4/${route}?userId=${ALICE.username}&jKey=${encodeURIComponent(aliceKey)}` });
      assertFailure(q, 405, "METHOD_NOT_ALLOWED");
    }
    await assertNothingChanged("wrong methods");
  });

  test("an unknown path under /api/V4 → 404 in the envelope", async () => {
    const res = await send(f.pub, { method: "POST", url: "/api/V4/placeOrder", headers: JSON_TYPE, payload: json(aliceLogout()) });
    assertFailure(res, 404, "RESOURCE_NOT_FOUND");
    const lower = await send(f.pub, { method: "POST", url: "/api/V4/LOGOUT", headers: JSON_TYPE, payload: json(aliceLogout()) });
    assertFailure(lower, 404);
    await assertNothingChanged("unknown paths");
  });

  test("BAD-J25: random well-formed jKeys at logout → the same INVALID_JKEY every time", async () => {
    for (let i = 0; i < 20; i++) {
      const jKey = i % 2 ? `${randomUUID()}.${randomBytes(32).toString("base64url")}` : randomBytes(16).toString("hex");
      const res = await send(f.pub, { method: "POST", url: "/api/V4/logout", headers: JSON_TYPE, payload: json({ userId: ALICE.username, jKey }) });
      assert.equal(res.statusCode, 401);
      assert.equal(res.body, INVALID_JKEY);
    }
    await assertNothingChanged("random jKeys");
  });

  test("a request that carries the right content type with parameters and odd casing still works (the checks are not over-strict)", async () => {
    const res = await send(f.pub, {
      method: "POST",
      url: "/api/V4/userDetails",
      headers: { "content-type": "Application/JSON; Charset=UTF-8" },
      payload: json(aliceLogout()),
    });
    assert.equal(res.statusCode, 200, res.body);
    const identity = await send(f.pub, {
      method: "POST",
      url: "/api/V4/userDetails",
      headers: { ...JSON_TYPE, "content-encoding": "identity" },
      payload: json(aliceLogout()),
    });
    assert.equal(identity.statusCode, 200, identity.body);
  });
});

test("SEC-50, SEC-06: no jKey, password digest or API key reaches a log line, even at debug level with bad input", async (t) => {
  const g = await startFirstock({ config: { "log.level": "debug" } });
  t.after(() => g.close());
  const logs = captureLogs(g.pub);
  const adminLogs = captureLogs(g.adm);
  t.after(() => {
    logs.restore();
    adminLogs.restore();
  });
  await createIdentity(g.adm, ALICE);
  const login = loginBody(ALICE.username, PASSWORD);
  const { susertoken } = await signInFirstock(g.pub, ALICE.username);
  const inputs = [
    json({ userId: ALICE.username, jKey: susertoken + "\r\nforged log line" }),
    `{"userId":"${ALICE.username}","jKey":"${susertoken}","jKey":"${susertoken}"}`,
    `{"userId":"${ALICE.username}","jKey":"${susertoken}",`,
    json({ userId: ALICE.username, jKey: { $ne: susertoken } }),
  ];
  for (const payload of inputs) await g.pub.inject({ method: "POST", url: "/api/V4/logout", headers: JSON_TYPE, payload });
  await g.pub.inject({ method: "POST", url: `/api/V4/logout?jKey=${encodeURIComponent(susertoken)}`, headers: JSON_TYPE, payload: "" });
  await g.pub.inject({ method: "POST", url: "/api/V4/login", headers: JSON_TYPE, payload: json({ ...login, extra: login.password }) });
  await g.pub.inject({ method: "POST", url: "/api/V4/logout", headers: JSON_TYPE, payload: json({ userId: ALICE.username, jKey: susertoken }) });
  assert.ok(logs.lines.length > 0, "debug logging produced no lines; the capture is broken");
  const secret = susertoken.split(".")[1]!;
  for (const line of logs.lines) {
    assert.ok(!line.includes(secret), `a jKey in the log: ${line.slice(0, 300)}`);
    assert.ok(!line.includes(login.password), `a password digest in the log: ${line.slice(0, 300)}`);
    assert.ok(!line.includes(login.apiKey), `an API key in the log: ${line.slice(0, 300)}`);
    assert.ok(!line.includes("forged log line"), `log injection: ${line.slice(0, 300)}`);
  }
});

describe("BAD-J24, SEC-101: a flood of dead jKeys from one address", () => {
  test("BAD-J24: past limits.per_ip.bad_tokens dead jKeys, logout and userDetails answer 429 API_RATE_LIMIT from that address only, before any lookup", async (t) => {
    const fs = await firstockFor(t, { config: { "limits.per_ip.bad_tokens.max": 3 } });
    await createIdentity(fs.adm, ALICE);
    const { susertoken: jKey } = await signInFirstock(fs.pub, ALICE.username);
    const dead = () => json({ userId: ALICE.username, jKey: `${randomUUID()}.${randomBytes(32).toString("base64url")}` });
    for (const route of ["logout", "userDetails", "logout"]) {
      const res = await send(fs.pub, { method: "POST", url: `/api/V4/${route}`, headers: JSON_TYPE, payload: dead() });
      assert.equal(res.statusCode, 401, route);
    }
    for (const route of ["logout", "userDetails"]) {
      const res = await send(fs.pub, { method: "POST", url: `/api/V4/${route}`, headers: JSON_TYPE, payload: dead() });
      assert.equal(res.statusCode, 429, route);
      assert.match(res.body, /API_RATE_LIMIT/);
      assert.ok(Number(res.headers["retry-after"]) >= 1);
    }
    // Another address is not limited; and what the limited one could not do changed nothing.
    const elsewhere = await send(fs.pub, { method: "POST", url: "/api/V4/userDetails", headers: JSON_TYPE, payload: json({ userId: ALICE.username, jKey }), remoteAddress: "192.0.2.7" });
    assert.equal(elsewhere.statusCode, 200, elsewhere.body);
    // Successes do not count: a live jKey's checks from a fresh address never reach the limit.
    for (let i = 0; i < 5; i++) {
      assert.equal((await send(fs.pub, { method: "POST", url: "/api/V4/userDetails", headers: JSON_TYPE, payload: json({ userId: ALICE.username, jKey }), remoteAddress: "192.0.2.8" })).statusCode, 200);
    }
  });
});
