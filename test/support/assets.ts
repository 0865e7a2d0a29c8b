/**
 * In-process helpers for the WoodWing Assets door's tests (WoodWing's Assets Server REST API
 * articles; docs/dialects/assets.md): a started server, the three ways to sign in (form, query string, `cred`), the two
 * carriers of a session (the `authToken` cookie with its csrfToken, and the apilogin bearer), and
 * the assertions every test of this door repeats: the Assets error JSON, a kept or cleared
 * cookie, a live or ended session.
 */
import assert from "node:assert/strict";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import type { HttpApp } from "../../src/http/app.ts";
import { setCookies } from "./cookies.ts";
import { ALICE, BASE, BOB, FORM, type IdentityJson, PASSWORD, createIdentity } from "./kratos.ts";
import { type Door, type TestServerOptions, doorFor } from "./server.ts";

/** BASE is the default public base URL (serve.public.base_url), hence the default landing page's origin too. */
export { ALICE, BASE, BOB, FORM, PASSWORD, setCookies };
export type Response = LightMyRequestResponse;

/** What a page of our own origin says about itself (SEC-56). */
export const SAME_ORIGIN = { "sec-fetch-site": "same-origin" } as const;

/** A started server; identities are made on the admin listener's app, `adm` (D10). */
export type Assets = Door;

/** Starts a server for one test and closes it when the test ends. */
export function assetsFor(t: { after(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<Assets> {
  return doorFor(t, options);
}

/** A server for one test in which Alice (ALICE, PASSWORD) exists. */
export async function assetsWithAlice(t: { after(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<Assets> {
  const a = await assetsFor(t, options);
  await user(a.adm);
  return a;
}

export function user(adm: HttpApp, traits: { email: string; username?: string } = ALICE): Promise<IdentityJson> {
  return createIdentity(adm, traits);
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function json<T = Record<string, unknown>>(res: Response): T {
  return JSON.parse(res.body) as T;
}

export type LoginVia = "form" | "query" | "cred";

/** `POST /services/login` (or `/services/apilogin`) with the credentials where `via` says. */
export function login(
  pub: HttpApp,
  username: string,
  password: string = PASSWORD,
  options: { via?: LoginVia; headers?: Record<string, string>; extra?: Record<string, string>; path?: string } = {},
): Promise<Response> {
  const via = options.via ?? "form";
  const path = options.path ?? "/services/login";
  const fields: Record<string, string> =
    via === "cred" ? { cred: Buffer.from(`${username}:${password}`).toString("base64"), ...options.extra } : { username, password, ...options.extra };
  if (via === "form") {
    return pub.inject({ method: "POST", url: path, headers: { ...FORM, ...options.headers }, payload: form(fields) });
  }
  return pub.inject({ method: "POST", url: `${path}?${form(fields)}`, headers: options.headers ?? {} });
}

/** The value the response sets `authToken` to, or null when it does not set it. */
export function authTokenSet(res: Response): string | null {
  for (const line of setCookies(res)) {
    const m = /^authToken=([^;]*)/.exec(line);
    if (m) return m[1] ?? "";
  }
  return null;
}

export interface CookieSession {
  /** The `authToken` cookie's value (the D1 session token). */
  token: string;
  /** The login body's csrfToken. */
  csrf: string;
  /** `{ cookie: "authToken=…" }`, ready to spread into request headers. */
  cookie: { cookie: string };
  /** The session id: the token's `id` part (D1, `id.secret`). */
  sessionId: string;
}

/** A successful browser-style sign-in: the cookie and the csrfToken. */
export async function browserLogin(pub: HttpApp, username: string = ALICE.username, password: string = PASSWORD): Promise<CookieSession> {
  const res = await login(pub, username, password);
  assert.equal(res.statusCode, 200, res.body);
  const body = json<{ loginSuccess: boolean; csrfToken: string }>(res);
  assert.equal(body.loginSuccess, true, res.body);
  const token = authTokenSet(res);
  assert.ok(token, "login set no authToken cookie");
  return { token, csrf: body.csrfToken, cookie: { cookie: `authToken=${token}` }, sessionId: token.split(".", 1)[0]! };
}

/** A successful `/services/apilogin`: the bearer authToken. */
export async function apiLogin(pub: HttpApp, username: string = ALICE.username, password: string = PASSWORD): Promise<string> {
  const res = await login(pub, username, password, { path: "/services/apilogin" });
  assert.equal(res.statusCode, 200, res.body);
  const body = json<{ loginSuccess: boolean; authToken: string }>(res);
  assert.equal(body.loginSuccess, true, res.body);
  return body.authToken;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** `POST /services/logout` with whatever the headers carry. */
export function servicesLogout(pub: HttpApp, headers: Record<string, string | string[]> = {}, extra: Partial<InjectOptions> = {}): Promise<Response> {
  return pub.inject({ method: "POST", url: "/services/logout", headers, ...extra } as InjectOptions);
}

export function profile(pub: HttpApp, headers: Record<string, string> = {}, method: "GET" | "POST" = "GET"): Promise<Response> {
  return pub.inject({ method, url: "/services/profile", headers });
}

/** The session these headers carry still works (a GET needs no CSRF token). */
export async function assertLive(pub: HttpApp, headers: Record<string, string>): Promise<void> {
  const res = await profile(pub, headers);
  assert.equal(res.statusCode, 200, `expected a live session: ${res.statusCode} ${res.body.slice(0, 300)}`);
}

/** The session these headers carry authenticates nobody (INV-2). */
export async function assertEnded(pub: HttpApp, headers: Record<string, string>): Promise<void> {
  const res = await profile(pub, headers);
  assert.equal(res.statusCode, 401, `expected an ended session: ${res.statusCode} ${res.body.slice(0, 300)}`);
  assert.equal(res.body, NOT_LOGGED_IN_BODY);
}

/** WoodWing's answer to a call without a session (the error-handling article), byte for byte. */
export const NOT_LOGGED_IN_BODY = '{"errorcode":401,"message":"Not logged in"}';
export const INVALID_CSRF_BODY = '{"errorcode":403,"errorname":"InvalidCsrfTokenException","message":"Invalid CSRF token"}';

export interface AssetsErrorJson {
  errorcode: number;
  errorname?: string;
  message: string;
}

/**
 * The Assets error JSON (WoodWing's error-handling article, D13) with the expected status: `errorcode` equal to it, first; a
 * `message`; JSON; no-store; no stack trace, path or SQL (SEC-66). With `statusOkOnError`, the
 * same body arrives with HTTP 200.
 */
export function assertAssetsError(res: Response, status: number, expect: { errorname?: string; statusOkOnError?: boolean } = {}): AssetsErrorJson {
  assert.equal(res.statusCode, expect.statusOkOnError ? 200 : status, `expected ${status}, got ${res.statusCode}: ${res.body.slice(0, 500)}`);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  assert.match(String(res.headers["cache-control"]), /\bno-store\b/);
  const body = json<AssetsErrorJson>(res);
  assert.equal(Object.keys(body)[0], "errorcode");
  assert.equal(body.errorcode, status);
  assert.equal(typeof body.message, "string");
  assert.ok(body.message.length > 0);
  assert.ok(!("logoutSuccess" in body) && !("loginSuccess" in body), "an error is never also a success");
  if (expect.errorname !== undefined) assert.equal(body.errorname, expect.errorname);
  assert.doesNotMatch(res.body, /\bat .+:\d+:\d+|\.ts:\d+|node_modules|SQLITE|SELECT |INSERT |UPDATE |injected store fault/);
  return body;
}

/** The 403 every CSRF failure gets (Spring Security's, docs/dialects/assets.md deviation 4), byte for byte. */
export function assertCsrfRefused(res: Response): void {
  assertAssetsError(res, 403, { errorname: "InvalidCsrfTokenException" });
  assert.equal(res.body, INVALID_CSRF_BODY);
}

/** INV-3 / SEC-55: the response leaves the cookie alone. */
export function assertCookieKept(res: Response): void {
  assert.equal(authTokenSet(res), null, `the authToken cookie was touched: ${setCookies(res).join(" | ")}`);
}

/** The cookie is expired with the attributes it was set with (D2). */
export function assertCookieCleared(res: Response): void {
  const line = setCookies(res).find((l) => l.startsWith("authToken="));
  assert.ok(line, "the authToken cookie was not cleared");
  assert.match(line, /^authToken=;/);
  assert.match(line, /; Max-Age=0(;|$)/);
  assert.match(line, /; Path=\/(;|$)/);
  assert.match(line, /; HttpOnly(;|$)/);
  assert.match(line, /; SameSite=Lax(;|$)/);
  assert.doesNotMatch(line, /Domain=/i);
}

/** How many sessions the identity has that are still live (through the admin API). */
export async function liveSessions(adm: HttpApp, identityId: string): Promise<number> {
  const res = await adm.inject({ method: "GET", url: `/admin/identities/${identityId}/sessions?active=true` });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as unknown[]).length;
}
