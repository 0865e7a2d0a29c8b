/**
 * In-process helpers for the Kratos door's tests: a started server with both listeners'
 * Fastify apps, a few SDK-shaped calls over `app.inject`, what the browser flows need (the CSRF
 * cookie's name, a flow's form nodes, the stored error behind the error page), and the
 * assertions every test of this door repeats (the herodot envelope, SEC-11's Cache-Control).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import type { Static } from "typebox";
import type * as W from "../../src/dialects/kratos/wire.ts";
import type { HttpApp } from "../../src/http/app.ts";
import { type Door, type TestServerOptions, doorFor } from "./server.ts";

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

export const ALICE = { email: "alice@example.com", username: "alice" };
export const BOB = { email: "bob@example.com", username: "bob" };
/** The default public base URL (serve.public.base_url). */
export const BASE = "http://localhost:4433";
/** A UUID, as a RegExp source. */
export const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
export const JSON_ACCEPT = { accept: "application/json" };
export const FORM = { "content-type": "application/x-www-form-urlencoded" } as const;

/** A started server: `pub` is the public listener's app, `adm` the admin listener's. */
export type Kratos = Door;

/** Kratos's CSRF cookie name (ory/kratos x/nosurfx/nosurf.go): `csrf_token_` + lower-case hex SHA-256 of the public base URL. */
export function csrfName(base = BASE): string {
  return "csrf_token_" + createHash("sha256").update(base).digest("hex");
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
 * The herodot envelope (ory/herodot, as Kratos writes errors) with the expected status: `error.code`,
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
export function kratosFor(t: { after(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<Kratos> {
  return doorFor(t, options);
}

/** A server for one test in which Alice (ALICE, PASSWORD) exists. */
export async function withAlice(t: { after(fn: () => unknown): void }, config: Record<string, unknown> = {}, options: Omit<TestServerOptions, "config"> = {}): Promise<Kratos> {
  const k = await kratosFor(t, { ...options, config });
  await createIdentity(k.adm, ALICE);
  return k;
}

/** `N` of `T`, as a tuple type. */
type Tuple<N extends number, T, R extends T[] = []> = R["length"] extends N ? R : Tuple<N, T, [...R, T]>;

/** `count` native sign-ins of one identity, oldest first, the clock moved `gapMs` between them. */
export async function signInSeries<N extends number>(
  pub: HttpApp,
  clock: { advance(ms: number): void },
  identifier: string,
  count: N,
  gapMs = 1000,
): Promise<Tuple<N, SignedIn>> {
  const out: SignedIn[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) clock.advance(gapMs);
    out.push(await signIn(pub, identifier));
  }
  return out as Tuple<N, SignedIn>;
}

/**
 * `updateLoginFlow` / `updateRegistrationFlow` on the flow with this id, with exactly this body
 * (an object is sent as JSON, a string as it is, e.g. a url-encoded form) and these headers.
 */
export function updateFlow(
  pub: HttpApp,
  type: "login" | "registration",
  flowId: string,
  payload: Record<string, unknown> | string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return pub.inject({ method: "POST", url: `/self-service/${type}?flow=${flowId}`, headers, payload });
}

export type UiNode = FlowJson["ui"]["nodes"][number];

/** A node's input attribute (the wire type leaves attributes open). */
export function attr(node: UiNode, key: string): unknown {
  return (node.attributes as Record<string, unknown>)[key];
}

export function nodeNamed(flow: FlowJson, name: string): UiNode {
  const node = flow.ui.nodes.find((n) => attr(n, "name") === name);
  assert.ok(node, `node ${name} missing`);
  return node;
}

/** The masked CSRF token of a browser flow's `csrf_token` node. */
export function csrfTokenOf(flow: FlowJson): string {
  const value = attr(nodeNamed(flow, "csrf_token"), "value");
  assert.equal(typeof value, "string");
  return value as string;
}

/**
 * The stored error behind a `/ui/error?id=` Location on `base` (Kratos's browser error
 * forwarding, read back with `getFlowError`).
 */
export async function flowError(pub: HttpApp, location: string | undefined, base = BASE): Promise<{ id?: string; code: number; reason?: string; message: string }> {
  assert.ok(location, "a Location");
  const match = new RegExp(`^${base.replace(/[.]/g, "\\.")}/ui/error\\?id=(${UUID})$`).exec(location);
  assert.ok(match, `a 303 to the error page, got Location ${location}`);
  const res = await pub.inject({ method: "GET", url: `/self-service/errors?id=${match[1]}` });
  assert.equal(res.statusCode, 200, res.body);
  const body = json<{ id: string; error: { id?: string; code: number; reason?: string; message: string } }>(res);
  assert.equal(body.id, match[1]);
  return body.error;
}
