/**
 * The end-to-end tier for the Firstock door: the npm `firstock@1.2.8` client, unchanged, over real
 * sockets (the-firstock/firstock-developer-sdk-nodejs on npm). It is the Developer API V1 client,
 * whose bodies are V4's; only its base URL is changed, the one way it allows: the exported
 * `API_LINK` is set before the package is first required. It keeps its jKeys in ./config.json, so
 * it runs in a throw-away working directory.
 *
 * Between the client and Curfew sits a recording pass-through proxy: it forwards the client's
 * bytes untouched and keeps a copy of every request and response, so the tests can say exactly
 * what went over the wire, and walk every response for JSON true, false and null.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  INVALID_JKEY,
  INVALID_PASSWORD,
  LOGOUT_SUCCESS,
  PASSWORD,
  VENDOR,
  VENDORS_CONFIG,
  checkFirstockBody,
  sha256hex,
} from "../support/firstock.ts";
import { type TestServer, startTestServer } from "../support/server.ts";

type Callback = (error: unknown, result: unknown) => void;
/** The part of the client's API these tests use (node_modules/firstock/dist/Classes/Firstock.d.ts). */
interface FirstockClient {
  login(params: { userId: string; password: string; TOTP: string; vendorCode: string; apiKey: string }, callBack: Callback): void;
  userDetails(params: { userId: string }, callBack: Callback): void;
  logout(params: { userId: string }, callBack: Callback): void;
}

interface Exchange {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  responseHeaders: IncomingHttpHeaders;
  responseBody: string;
}

const ALICE = { email: "Alice.Client@Example.COM", username: "AA0013" };
const BOB = { email: "bob.client@example.com", username: "BB0042" };

let server: TestServer;
let proxy: ReturnType<typeof createServer>;
let client: FirstockClient;
const wire: Exchange[] = [];
let workDir = "";
let previousCwd = "";

/** A pass-through proxy that records both directions and changes nothing. */
async function startRecordingProxy(target: URL): Promise<string> {
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const back: Buffer[] = [];
          up.on("data", (c: Buffer) => back.push(c));
          up.on("end", () => {
            const responseBody = Buffer.concat(back);
            wire.push({
              method: req.method ?? "",
              url: req.url ?? "",
              headers: req.headers,
              body: body.toString("utf8"),
              status: up.statusCode ?? 0,
              responseHeaders: up.headers,
              responseBody: responseBody.toString("utf8"),
            });
            res.writeHead(up.statusCode ?? 502, up.rawHeaders);
            res.end(responseBody);
          });
        },
      );
      upstream.on("error", (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

/** The client's callback as a promise of both arguments. */
function call<P>(method: (params: P, callBack: Callback) => void, params: P): Promise<{ error: unknown; result: unknown }> {
  return new Promise((resolve) => method.call(client, params, (error, result) => resolve({ error, result })));
}

function configJson(): Record<string, { jKey: string }> {
  return JSON.parse(readFileSync(join(workDir, "config.json"), "utf8")) as Record<string, { jKey: string }>;
}

/** The one exchange the last client call made (asserting it made exactly one). */
function lastExchange(countBefore: number): Exchange {
  assert.equal(wire.length, countBefore + 1, "the client call should have sent exactly one request");
  return wire.at(-1)!;
}

async function createIdentity(traits: { email: string; username: string }): Promise<void> {
  const res = await fetch(`${server.adminUrl}/admin/identities`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ schema_id: "default", traits, credentials: { password: { config: { password: PASSWORD } } } }),
  });
  assert.equal(res.status, 201, await res.text());
}

before(async () => {
  server = await startTestServer({
    listen: true,
    config: { "firstock.vendors": VENDORS_CONFIG, "login.rate_limit.per_ip.max": 10_000 },
  });
  const proxyUrl = await startRecordingProxy(new URL(server.publicUrl));
  await createIdentity(ALICE);
  await createIdentity(BOB);

  // The client builds its axios instance from API_LINK when it is first loaded (its dist/Classes/Firstock.js).
  const require = createRequire(import.meta.url);
  const constant = require("firstock/dist/shared/constant") as { API_LINK: string };
  constant.API_LINK = `${proxyUrl}/api/V4`;
  const { Firstock } = require("firstock") as { Firstock: new () => FirstockClient };
  client = new Firstock();

  previousCwd = process.cwd();
  workDir = mkdtempSync(join(tmpdir(), "curfew-firstock-client-"));
  process.chdir(workDir);
});

after(async () => {
  if (previousCwd) process.chdir(previousCwd);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  proxy?.closeAllConnections();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await server?.close();
  // Every response the client received was a Firstock body without true, false or null.
  for (const exchange of wire) checkFirstockBody(exchange.responseBody, exchange.method);
});

describe("npm firstock@1.2.8 against Curfew's Firstock V4 door", () => {
  let aliceKey = "";

  test("login: the client SHA-256-hexes the password itself; Curfew accepts its body as sent and answers the V4 success", async () => {
    const before = wire.length;
    const { error, result } = await call(client.login, {
      userId: ALICE.username,
      password: PASSWORD,
      TOTP: "123456",
      vendorCode: VENDOR.vendorCode,
      apiKey: VENDOR.apiKey,
    });
    assert.equal(error, null, JSON.stringify(error));
    const exchange = lastExchange(before);

    // What the client put on the wire: POST /api/V4/login, JSON, exactly these five fields.
    assert.equal(exchange.method, "POST");
    assert.equal(exchange.url, "/api/V4/login");
    assert.match(String(exchange.headers["content-type"]), /^application\/json\b/);
    const sent = JSON.parse(exchange.body) as Record<string, string>;
    assert.deepEqual(Object.keys(sent), ["userId", "password", "TOTP", "vendorCode", "apiKey"]);
    assert.equal(sent.userId, ALICE.username);
    assert.equal(sent.password, sha256hex(PASSWORD));
    assert.match(sent.password!, /^[0-9a-f]{64}$/);
    assert.equal(sent.TOTP, "123456");
    assert.equal(sent.vendorCode, VENDOR.vendorCode);
    assert.equal(sent.apiKey, VENDOR.apiKey);

    // What Curfew answered, byte for byte, and what the client made of it.
    assert.equal(exchange.status, 200);
    const data = (result as { status: string; data: { actid: string; susertoken: string } }).data;
    aliceKey = data.susertoken;
    assert.equal(
      exchange.responseBody,
      `{"status":"success","data":{"actid":"${ALICE.username}","userName":"${ALICE.username}","susertoken":"${aliceKey}","email":"${ALICE.email}"}}`,
    );
    assert.deepEqual(result, JSON.parse(exchange.responseBody));
    // The client files the jKey under data.actid, which is why actid is the userId a client logs in with.
    assert.deepEqual(configJson(), { [ALICE.username]: { jKey: aliceKey } });
  });

  test("userDetails: the client sends {userId, jKey}; Curfew answers success for the live jKey", async () => {
    const before = wire.length;
    const { error, result } = await call(client.userDetails, { userId: ALICE.username });
    assert.equal(error, null, JSON.stringify(error));
    const exchange = lastExchange(before);
    assert.equal(exchange.url, "/api/V4/userDetails");
    assert.equal(exchange.body, JSON.stringify({ userId: ALICE.username, jKey: aliceKey }));
    assert.equal(exchange.status, 200);
    const data = (result as { status: string; data: Record<string, unknown> }).data;
    assert.equal((result as { status: string }).status, "success");
    assert.equal(data.actid, ALICE.username);
    assert.equal(data.email, ALICE.email);
    assert.equal(data.userName, ALICE.username);
    assert.match(String(data.requestTime), /^\d\d:\d\d:\d\d \d\d-\d\d-\d{4}$/);
  });

  test("logout: the client sends {userId, jKey}; Curfew answers the V4 Logout page's success; the client then forgets every jKey (its bug)", async () => {
    const before = wire.length;
    const { error, result } = await call(client.logout, { userId: ALICE.username });
    assert.equal(error, null, JSON.stringify(error));
    const exchange = lastExchange(before);
    assert.equal(exchange.method, "POST");
    assert.equal(exchange.url, "/api/V4/logout");
    assert.match(String(exchange.headers["content-type"]), /^application\/json\b/);
    assert.equal(exchange.body, JSON.stringify({ userId: ALICE.username, jKey: aliceKey }));
    assert.equal(exchange.status, 200);
    assert.equal(exchange.responseBody, LOGOUT_SUCCESS);
    assert.deepEqual(result, { status: "success", data: "Successfully logged out" });
    assert.deepEqual(configJson(), {});
  });

  test("a second logout from the same client fails locally ('Please login to Firstock') and sends nothing", async () => {
    const before = wire.length;
    const { error, result } = await call(client.logout, { userId: ALICE.username });
    assert.equal(error, "Please login to Firstock");
    assert.equal(result, null);
    assert.equal(wire.length, before, "no request was sent");
  });

  test("logout: a client still holding the ended jKey: logout and userDetails get 401 INVALID_JKEY, which the client hands over as the error", async () => {
    // As a client that kept the jKey would hold it (another process, a copy of config.json).
    writeFileSync(join(workDir, "config.json"), JSON.stringify({ [ALICE.username]: { jKey: aliceKey } }));
    for (const method of [client.logout, client.userDetails, client.logout]) {
      const before = wire.length;
      const { error, result } = await call(method, { userId: ALICE.username });
      const exchange = lastExchange(before);
      assert.equal(exchange.body, JSON.stringify({ userId: ALICE.username, jKey: aliceKey }));
      assert.equal(exchange.status, 401);
      assert.equal(exchange.responseBody, INVALID_JKEY);
      assert.deepEqual(error, JSON.parse(INVALID_JKEY));
      assert.equal(result, null);
    }
    // On a 401 the client leaves its file as it was.
    assert.deepEqual(configJson(), { [ALICE.username]: { jKey: aliceKey } });
  });

  test("D14: a wrong password and an unknown userId reach the client as the same INVALID_PASSWORD", async () => {
    const answers: unknown[] = [];
    for (const userId of [ALICE.username, "ZZ9999"]) {
      const before = wire.length;
      const { error, result } = await call(client.login, {
        userId,
        password: userId === "ZZ9999" ? PASSWORD : "not the password",
        TOTP: "",
        vendorCode: VENDOR.vendorCode,
        apiKey: VENDOR.apiKey,
      });
      const exchange = lastExchange(before);
      assert.equal(exchange.status, 401);
      assert.equal(exchange.responseBody, INVALID_PASSWORD);
      assert.equal(result, null);
      answers.push(error);
    }
    assert.deepEqual(answers[0], JSON.parse(INVALID_PASSWORD));
    assert.deepEqual(answers[1], answers[0]);
  });

  test("SEC-51: two users through one client; one's logout ends only that user's session at the server, though the client forgets both", async () => {
    const login = (userId: string) =>
      call(client.login, { userId, password: PASSWORD, TOTP: "", vendorCode: VENDOR.vendorCode, apiKey: VENDOR.apiKey });
    assert.equal((await login(ALICE.username)).error, null);
    assert.equal((await login(BOB.username)).error, null);
    const keys = configJson();
    const bobKey = keys[BOB.username]!.jKey;
    assert.ok(keys[ALICE.username]?.jKey && bobKey);

    assert.equal((await call(client.logout, { userId: ALICE.username })).error, null);
    assert.deepEqual(configJson(), {}, "the client wipes every user's jKey on a logout");

    // Bob's session is untouched at the server: put his jKey back and it still works.
    writeFileSync(join(workDir, "config.json"), JSON.stringify({ [BOB.username]: { jKey: bobKey } }));
    const details = await call(client.userDetails, { userId: BOB.username });
    assert.equal(details.error, null, JSON.stringify(details.error));
    assert.equal((details.result as { data: { actid: string } }).data.actid, BOB.username);
    assert.deepEqual((await call(client.logout, { userId: BOB.username })).result, JSON.parse(LOGOUT_SUCCESS));
  });
});
