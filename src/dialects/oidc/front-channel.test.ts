/**
 * Front-Channel Logout 1.0 in process: a browser logout at this door whose session had apps with a
 * `frontchannel_logout_uri` lands on a page that frames each of them with `iss` and `sid`, then
 * goes where the logout was going. Without such apps the answer stays the plain redirect.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { ALICE, BASE, assertDead, byCookie, signIn, withAlice } from "../../../test/support/kratos.ts";
import { APP_SECRET } from "../../../test/support/oidc.ts";
import type { HttpApp } from "../../http/app.ts";

const WEB = {
  client_id: "web",
  client_secret: APP_SECRET,
  redirect_uris: ["https://web.example/cb"],
  allowed_logout_urls: ["https://web.example/bye"],
  post_logout_redirect_uris: ["https://web.example/bye"],
  frontchannel_logout_uri: "https://web.example/front-channel?app=1",
};
const SHOP = { client_id: "shop", client_secret: APP_SECRET, redirect_uris: ["https://shop.example/cb"], frontchannel_logout_uri: "https://shop.example/fc" };
const QUIET = { client_id: "quiet", client_secret: APP_SECRET, redirect_uris: ["https://quiet.example/cb"] };
const CONFIG = { "oidc.clients": [WEB, SHOP, QUIET] };

/** Makes `clientId` a participant of the session: a code issued for it. */
async function join(pub: HttpApp, token: string, clientId: string, redirectUri: string): Promise<void> {
  const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: "code", scope: "openid" });
  const res = await pub.inject({ method: "GET", url: `/authorize?${query}`, headers: byCookie(token) });
  assert.equal(res.statusCode, 303, res.body);
}

function framesOf(body: string): URL[] {
  return [...body.matchAll(/<iframe hidden src="([^"]+)"/g)].map((m) => new URL(m[1]!.replaceAll("&amp;", "&")));
}

function assertPageGoesTo(res: { statusCode: number; headers: Record<string, unknown>; body: string }, target: string): void {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers.location, undefined);
  const csp = String(res.headers["content-security-policy"]);
  assert.match(csp, /frame-ancestors 'none'/);
  // The script the page carries is the one its CSP allows: a browser runs it.
  const script = /<script>([^<]*)<\/script>/.exec(res.body)?.[1] ?? "";
  assert.ok(csp.includes(`'sha256-${createHash("sha256").update(script).digest("base64")}'`), csp);
  const escaped = target.replaceAll("&", "&amp;");
  assert.ok(res.body.includes(`<meta http-equiv="refresh" content="3;url=${escaped}">`), "the meta refresh goes on without scripts");
  assert.ok(res.body.includes(`<a id="continue" href="${escaped}">`));
}

describe("Front-Channel Logout 1.0", () => {
  it("SEC-97: /v2/logout frames each participating app's frontchannel_logout_uri with iss and sid, then goes to returnTo", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token, session } = await signIn(k.pub, ALICE.email);
    await join(k.pub, token, "web", "https://web.example/cb");
    await join(k.pub, token, "shop", "https://shop.example/cb");
    await join(k.pub, token, "quiet", "https://quiet.example/cb");
    const res = await k.pub.inject({ method: "GET", url: `/v2/logout?client_id=web&returnTo=${encodeURIComponent("https://web.example/bye")}`, headers: byCookie(token) });
    assertPageGoesTo(res, "https://web.example/bye");
    assert.match(String(res.headers["set-cookie"]), /^ory_kratos_session=; .*Max-Age=0/);
    await assertDead(k.pub, token);
    const sid = k.t.server.core.grants.sidOf(session.id);
    const frames = framesOf(res.body).sort((a, b) => a.href.localeCompare(b.href));
    assert.deepEqual(
      frames.map((u) => [u.origin + u.pathname, u.searchParams.get("iss"), u.searchParams.get("sid")]),
      [
        ["https://shop.example/fc", `${BASE}/`, sid],
        ["https://web.example/front-channel", `${BASE}/`, sid],
      ],
      "one frame per app with a front-channel URI; the app without one is not framed",
    );
    assert.equal(frames[1]!.searchParams.get("app"), "1", "the URI's own query is kept");
    const csp = String(res.headers["content-security-policy"]);
    const frameSrc = /frame-src ([^;]+);/.exec(csp)?.[1]?.split(" ").sort();
    assert.deepEqual(frameSrc, ["https://shop.example", "https://web.example"], "only the apps' origins may be framed");
  });

  it("SEC-97: RP-Initiated Logout does the same on its way to post_logout_redirect_uri with state", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token, session } = await signIn(k.pub, ALICE.email);
    await join(k.pub, token, "web", "https://web.example/cb");
    const sid = k.t.server.core.grants.sidOf(session.id);
    const query = new URLSearchParams({ client_id: "web", logout_hint: sid, post_logout_redirect_uri: "https://web.example/bye", state: "s 1" });
    const res = await k.pub.inject({ method: "GET", url: `/oidc/logout?${query}`, headers: byCookie(token) });
    assertPageGoesTo(res, "https://web.example/bye?state=s+1");
    assert.deepEqual(framesOf(res.body).map((u) => u.searchParams.get("sid")), [sid]);
    await assertDead(k.pub, token);
  });

  it("without front-channel apps, or without a session, the answer stays the redirect", async (t) => {
    const k = await withAlice(t, CONFIG);
    const { token } = await signIn(k.pub, ALICE.email);
    await join(k.pub, token, "quiet", "https://quiet.example/cb");
    const quiet = await k.pub.inject({ method: "GET", url: `/v2/logout?client_id=web&returnTo=${encodeURIComponent("https://web.example/bye")}`, headers: byCookie(token) });
    assert.equal(quiet.statusCode, 302);
    assert.equal(quiet.headers.location, "https://web.example/bye");
    const none = await k.pub.inject({ method: "GET", url: "/v2/logout?client_id=web" });
    assert.equal(none.statusCode, 302, "a browser that holds no session is not shown frames of anyone's");
  });

  it("discovery says front-channel logout, with sid, is supported", async (t) => {
    const k = await withAlice(t, CONFIG);
    const meta = JSON.parse((await k.pub.inject({ method: "GET", url: "/.well-known/openid-configuration" })).body);
    assert.equal(meta.frontchannel_logout_supported, true);
    assert.equal(meta.frontchannel_logout_session_supported, true);
  });
});
