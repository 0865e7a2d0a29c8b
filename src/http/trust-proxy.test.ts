/**
 * `serve.public.trust_proxy`: behind a listed reverse proxy the client is the address its
 * X-Forwarded-For names, so the per-IP limits (SEC-61) count clients, not the proxy; from anyone
 * else the header is ignored, since a client can send whatever it likes in it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../config/load.ts";
import { ALICE, json, submitLogin, withAlice } from "../../test/support/kratos.ts";

async function attemptIps(adm: import("./app.ts").HttpApp): Promise<(string | null)[]> {
  const res = await adm.inject({ method: "GET", url: "/admin/audit?type=signin.failed" });
  return json<{ ip_address: string | null }[]>(res).map((e) => e.ip_address);
}

describe("serve.public.trust_proxy", () => {
  it("unset: X-Forwarded-For is ignored, and the TCP peer is the client", async (t) => {
    const { pub, adm } = await withAlice(t);
    await submitLogin(pub, ALICE.email, "wrong", { remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": "203.0.113.9" } });
    assert.deepEqual(await attemptIps(adm), ["127.0.0.1"]);
  });

  it("a listed proxy's X-Forwarded-For names the client; an unlisted peer's does not", async (t) => {
    const { pub, adm } = await withAlice(t, { "serve.public.trust_proxy": ["loopback", "10.0.0.0/8"] });
    await submitLogin(pub, ALICE.email, "wrong", { remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": "203.0.113.9" } });
    await submitLogin(pub, ALICE.email, "wrong", { remoteAddress: "10.1.2.3", headers: { "x-forwarded-for": "198.51.100.4, 10.9.9.9" } });
    await submitLogin(pub, ALICE.email, "wrong", { remoteAddress: "192.0.2.77", headers: { "x-forwarded-for": "203.0.113.10" } });
    assert.deepEqual(await attemptIps(adm), ["192.0.2.77", "198.51.100.4", "203.0.113.9"]);
  });

  it("SEC-61 behind a proxy: the per-IP limit counts each client, not the proxy they share", async (t) => {
    const { pub } = await withAlice(t, { "serve.public.trust_proxy": ["loopback"], "login.rate_limit.per_ip.max": 2 });
    const from = (ip: string) => ({ remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": ip } });
    for (let i = 0; i < 2; i++) assert.equal((await submitLogin(pub, `nobody${i}@example.com`, "wrong", from("203.0.113.1"))).statusCode, 400);
    assert.equal((await submitLogin(pub, "nobody9@example.com", "wrong", from("203.0.113.1"))).statusCode, 429, "that client is limited");
    assert.equal((await submitLogin(pub, "nobody9@example.com", "wrong", from("203.0.113.2"))).statusCode, 400, "another one behind the same proxy is not");
  });

  it("an entry that is no address, range or name stops start-up with the key named", () => {
    for (const entry of ["10.0.0.0/33", "proxy.example", "*", "::1/129", "1.2.3.4/8/9", "0.0.0.0/0", "::/0"]) {
      assert.throws(
        () => loadConfig({ env: {}, overrides: { "serve.public.trust_proxy": [entry] } }),
        (e: unknown) => e instanceof ConfigError && e.message.includes("serve.public.trust_proxy") && e.message.includes(entry),
        entry,
      );
    }
  });
});
