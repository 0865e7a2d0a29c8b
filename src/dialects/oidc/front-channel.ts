/**
 * Front-Channel Logout 1.0: after the browser's session ends at one of this door's logouts, the
 * page it lands on frames every participating app's `frontchannel_logout_uri` with `iss` and
 * `sid` (§2, §3; always both, so apps that require them and apps that do not are served alike),
 * and then goes on to where the logout was going. Apps whose sessions live in browser state only
 * (cookies of their own, no server to call) learn of the logout this way; the others are told
 * by back-channel, which does not depend on this page (ADR 0020).
 *
 * The page waits for every frame to load (a script the CSP names by hash), and a meta refresh
 * goes on after three seconds when scripts are off or an app does not answer. Frames may only
 * be the participants' origins (`frame-src`); nothing may frame this page.
 */
import { createHash } from "node:crypto";
import type { FastifyReply } from "fastify";
import type { EndedSession } from "../../core/logout.ts";
import { Html, html, page } from "../../http/html.ts";
import type { OidcDoorOptions } from "./door.ts";

/**
 * Goes on once the document is parsed and every frame has loaded (a frame that fails loads its
 * error page). A constant, so its hash is too; inserted as is (a script's text is not HTML).
 */
const SCRIPT =
  "var loaded=0;function go(){if(document.readyState!=='loading'&&loaded>=document.querySelectorAll('iframe').length)location.replace(document.getElementById('continue').href)}" +
  "document.addEventListener('load',function(e){if(e.target.tagName==='IFRAME'){loaded++;go()}},true);document.addEventListener('DOMContentLoaded',go);";
const SCRIPT_HASH = createHash("sha256").update(SCRIPT).digest("base64");
/** Seconds before the meta refresh goes on without the script. */
const FALLBACK_SECONDS = 3;

/** Each participating app's front-channel URI for the ended sessions, with `iss` and `sid`. */
export async function frontChannelUris(door: OidcDoorOptions, ended: readonly EndedSession[]): Promise<string[]> {
  if (ended.length === 0) return [];
  const uris: string[] = [];
  const apps = new Map((await door.core.apps.list()).map((a) => [a.clientId, a]));
  for (const session of ended) {
    for (const participant of await door.core.grants.participants(session.id)) {
      const uri = apps.get(participant.clientId)?.frontchannelLogoutUri;
      if (!uri) continue;
      const url = new URL(uri);
      url.searchParams.set("iss", door.issuer);
      url.searchParams.set("sid", participant.sid);
      uris.push(url.href);
    }
  }
  return uris;
}

/**
 * The answer of a browser logout that ended `ended`: a redirect to `target` (`status`) when no
 * app takes front-channel notices, else the page that frames them and then goes to `target`.
 */
export async function leaveSignedOut(reply: FastifyReply, door: OidcDoorOptions, ended: readonly EndedSession[], target: string, status: 302 | 303): Promise<FastifyReply> {
  const uris = await frontChannelUris(door, ended);
  if (uris.length === 0) return reply.code(status).header("location", target).send();
  const origins = [...new Set(uris.map((u) => new URL(u).origin))];
  const frames = uris.map((u) => html`<iframe hidden src="${u}" title="Signing you out of an app"></iframe>`);
  const body = html`<p>You are signed out. Telling your apps…</p>${frames}
<p><a id="continue" href="${target}">Continue</a></p>`;
  const head = html`<meta http-equiv="refresh" content="${`${FALLBACK_SECONDS};url=${target}`}">
<script>${new Html(SCRIPT)}</script>`;
  return reply
    .code(200)
    .header(
      "content-security-policy",
      `default-src 'none'; style-src 'self'; img-src 'self'; script-src 'sha256-${SCRIPT_HASH}'; frame-src ${origins.join(" ")}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(page({ title: "Signed out", body, head }));
}
