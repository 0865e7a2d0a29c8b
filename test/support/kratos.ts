/**
 * In-process helpers for the Kratos door's tests: a started server with both listeners'
 * Fastify apps, a few SDK-shaped calls over `app.inject`, and the assertions every test of
 * this door repeats (the herodot envelope, SEC-11's Cache-Control).
 */
import assert from "node:assert/strict";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import type { Static } from "typebox";
import type * as W from "../../src/dialects/kratos/wire.ts";
import type { HttpApp } from "../../src/http/app.ts";
import { type TestServer, type TestServerOptions, startTestServer } from "./server.ts";

export type Response = LightMyRequestResponse;
export type SessionJson = Static<typeof W.Session>;
export type IdentityJson = Static<typeof W.Identity>;
export type FlowJson = Static<typeof W.Flow>;
export interface HerodotJson {
  error: { id?: string; code: number; status: string; request?: string; reason?: string; details?: Record<string, unknown>; message: string };
  [sibling: string]: unknown;
}

export const PASSWORD = "correct horse battery staple";
/** A UUID no test ever creates. */
export const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

export interface Kratos {
  t: TestServer;
  /** The public listener's app. */
  pub: HttpApp;
  /** The admin listener's app. */
  adm: HttpApp;
  close(): Promise<void>;
}

export async function startKratos(options: TestServerOptions = {}): Promise<Kratos> {
  const t = await startTestServer(options);
  return { t, pub: t.server.publicApp, adm: t.server.adminApp, close: () => t.close() };
}

export function json<T = unknown>(res: Response): T {
  return JSON.parse(res.body) as T;
}

/** SEC-11: nothing this server says about a session may be stored by a cache. */
export function assertNoStore(res: Response): void {
  const cc = String(res.headers["cache-control"] ?? "");
  assert.match(cc, /\bno-store\b/, `Cache-Control on ${res.statusCode} was "${cc}"`);
}

/**
 * The herodot envelope (research/kratos.md §1.3) with the expected status: `error.code`,
 * `error.status`, `error.message`, JSON, `Ory-Error-Id`, no-store, and nothing that looks like
 * a stack trace, a file path or SQL (SEC-66).
 */
export function assertHerodot(res: Response, status: number, expect: { id?: string | null; reason?: RegExp | string } = {}): HerodotJson {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body.slice(0, 500)}`);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  assert.ok("ory-error-id" in res.headers, "Ory-Error-Id header missing");
  assertNoStore(res);
  const body = json<HerodotJson>(res);
  assert.equal(typeof body.error, "object");
  assert.equal(body.error.code, status);
  assert.equal(typeof body.error.status, "string");
  assert.ok(body.error.status.length > 0);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
  assert.doesNotMatch(res.body, /\bat .+:\d+:\d+|\.ts:\d+|node_modules|SQLITE|SELECT |INSERT |UPDATE /);
  if (expect.id === null) assert.equal(body.error.id, undefined, "error.id should be absent");
  else if (expect.id !== undefined) assert.equal(body.error.id, expect.id);
  if (expect.reason instanceof RegExp) assert.match(body.error.reason ?? "", expect.reason);
  else if (expect.reason !== undefined) assert.equal(body.error.reason, expect.reason);
  return body;
}

/** `POST /admin/identities` (D10); asserts 201. */
export async function createIdentity(
  adm: HttpApp,
  traits: { email: string; username?: string },
  options: { password?: string | null; state?: "active" | "inactive"; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
): Promise<IdentityJson> {
  const password = options.password === undefined ? PASSWORD : options.password;
  const res = await adm.inject({
    method: "POST",
    url: "/admin/identities",
    headers: options.headers ?? {},
    payload: {
      schema_id: "default",
      traits,
      ...(password !== null ? { credentials: { password: { config: { password } } } } : {}),
      ...(options.state ? { state: options.state } : {}),
      ...options.extra,
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  return json<IdentityJson>(res);
}

/** `createNativeLoginFlow`: asserts 200 and returns the flow. */
export async function loginFlow(pub: HttpApp, headers: Record<string, string> = {}): Promise<FlowJson> {
  const res = await pub.inject({ method: "GET", url: "/self-service/login/api", headers });
  assert.equal(res.statusCode, 200, res.body);
  return json<FlowJson>(res);
}

export async function registrationFlow(pub: HttpApp): Promise<FlowJson> {
  const res = await pub.inject({ method: "GET", url: "/self-service/registration/api" });
  assert.equal(res.statusCode, 200, res.body);
  return json<FlowJson>(res);
}

/** `updateLoginFlow` on a fresh native flow, as the SDK sends it; returns the raw response. */
export async function submitLogin(
  pub: HttpApp,
  identifier: string,
  password: string,
  options: { headers?: Record<string, string>; remoteAddress?: string; flowId?: string } = {},
): Promise<Response> {
  const flowId = options.flowId ?? (await loginFlow(pub)).id;
  return pub.inject({
    method: "POST",
    url: `/self-service/login?flow=${flowId}`,
    headers: options.headers ?? {},
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
    payload: { method: "password", identifier, password },
  });
}

export interface SignedIn {
  token: string;
  session: SessionJson;
}

/** A successful native sign-in: the session token and the session. */
export async function signIn(pub: HttpApp, identifier: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<SignedIn> {
  const res = await submitLogin(pub, identifier, password, { headers });
  assert.equal(res.statusCode, 200, res.body);
  const body = json<{ session_token: string; session: SessionJson }>(res);
  return { token: body.session_token, session: body.session };
}

/** `toSession` with whatever credentials the headers carry. */
export function whoami(pub: HttpApp, headers: Record<string, string> = {}, method: InjectOptions["method"] = "GET"): Promise<Response> {
  return pub.inject({ method, url: "/sessions/whoami", headers });
}

export function bySessionToken(token: string): Record<string, string> {
  return { "x-session-token": token };
}

export function byCookie(token: string): Record<string, string> {
  return { cookie: `ory_kratos_session=${token}` };
}

export function byBearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** `performNativeLogout`. */
export function nativeLogout(pub: HttpApp, sessionToken?: string): Promise<Response> {
  return pub.inject({
    method: "DELETE",
    url: "/self-service/logout/api",
    payload: sessionToken === undefined ? {} : { session_token: sessionToken },
  });
}

/** Asserts the token authenticates (whoami 200) and returns the session. */
export async function assertLive(pub: HttpApp, token: string): Promise<SessionJson> {
  const res = await whoami(pub, bySessionToken(token));
  assert.equal(res.statusCode, 200, `expected a live session: ${res.body.slice(0, 300)}`);
  return json<SessionJson>(res);
}

/** Asserts the token authenticates nobody (whoami 401, E-WHOAMI). */
export async function assertDead(pub: HttpApp, token: string): Promise<void> {
  const res = await whoami(pub, bySessionToken(token));
  assert.equal(res.statusCode, 401, `expected a dead session: ${res.body.slice(0, 300)}`);
}

/** The admin view of a session, by id (no expansion). */
export async function adminSession(adm: HttpApp, id: string, headers: Record<string, string> = {}): Promise<SessionJson> {
  const res = await adm.inject({ method: "GET", url: `/admin/sessions/${id}`, headers });
  assert.equal(res.statusCode, 200, res.body);
  return json<SessionJson>(res);
}

/**
 * Captures what the app's pino logger writes (SEC-06 checks). Child loggers, one per request,
 * inherit the stream from the root logger, so swapping it there catches every line.
 */
export function captureLogs(app: HttpApp): { lines: string[]; restore(): void } {
  const logger = app.log as unknown as Record<symbol, unknown>;
  let holder: object | null = logger;
  let streamSym: symbol | undefined;
  while (holder && !streamSym) {
    streamSym = Object.getOwnPropertySymbols(holder).find((s) => s.description === "pino.stream");
    holder = Object.getPrototypeOf(holder) as object | null;
  }
  assert.ok(streamSym, "pino stream symbol not found");
  const lines: string[] = [];
  const original = logger[streamSym];
  logger[streamSym] = { write: (line: string) => void lines.push(line) };
  return { lines, restore: () => void (logger[streamSym] = original) };
}

/** Starts a server for one test and closes it when the test ends. */
export async function kratosFor(t: { after(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<Kratos> {
  const k = await startKratos(options);
  t.after(() => k.close());
  return k;
}
