/**
 * In-process helpers for the Firstock door's tests (the Firstock V4 API documentation):
 * a started server with vendor keys configured, the three calls as a Firstock client sends them,
 * and the assertions every test of this door repeats: the exact envelopes, `code` equal to the
 * HTTP status, and no JSON `true`, `false` or `null` anywhere (the official Python SDK parses
 * responses with `ast.literal_eval`; docs/dialects/firstock.md, deviation 5).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import type { HttpApp } from "../../src/http/app.ts";
import { type Door, type TestServerOptions, doorFor, startDoor } from "./server.ts";

export type Response = LightMyRequestResponse;

export const PASSWORD = "correct horse battery staple";
export const VENDOR = { vendorCode: "V1_API", apiKey: "K1-0123456789abcdef" } as const;
export const OTHER_VENDOR = { vendorCode: "V2_API", apiKey: "K2-fedcba9876543210" } as const;
export const VENDORS_CONFIG = [
  { vendor_code: VENDOR.vendorCode, api_key: VENDOR.apiKey },
  { vendor_code: OTHER_VENDOR.vendorCode, api_key: OTHER_VENDOR.apiKey },
];

/** The V4 Logout page's bodies, byte for byte (compact JSON, the page's key order). */
export const LOGOUT_SUCCESS = '{"status":"success","data":"Successfully logged out"}';
export const INVALID_JKEY =
  '{"status":"failed","code":"401","name":"INVALID_JKEY","error":{"field":"jKey","message":"jKey parameter is invalid"}}';
/** The V4 Login page's failure example; D14 uses it for unknown users too. */
export const INVALID_PASSWORD =
  '{"status":"failed","code":"401","name":"INVALID_PASSWORD","error":{"field":"password","message":"password parameter is invalid"}}';

/** Lowercase hex SHA-256 of the UTF-8 password, as every Firstock V4 client sends it (the V4 Login page). */
export function sha256hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export type Firstock = Door;

/** The two test vendors configured and the per-IP sign-in limit out of the way, then `options`. */
function withVendors(options: TestServerOptions): TestServerOptions {
  return {
    ...options,
    config: {
      "firstock.vendors": VENDORS_CONFIG,
      "login.rate_limit.per_ip.max": 100_000,
      ...options.config,
    },
  };
}

/** A server with the two test vendors configured and the per-IP sign-in limit out of the way. */
export function startFirstock(options: TestServerOptions = {}): Promise<Firstock> {
  return startDoor(withVendors(options));
}

/** Starts such a server for one test and closes it when the test ends. */
export function firstockFor(t: { after(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<Firstock> {
  return doorFor(t, withVendors(options));
}

/** How many Firstock response bodies were parsed and walked in this process. */
export let walkedResponses = 0;

/**
 * Walks a parsed JSON value and fails on any boolean or null: Firstock answers carry only
 * strings, numbers, objects and arrays (the official Python SDK parses them with `ast.literal_eval`).
 */
export function assertNoJsonLiterals(value: unknown, path = "$"): void {
  if (value === null) assert.fail(`JSON null at ${path}`);
  if (typeof value === "boolean") assert.fail(`JSON ${value} at ${path}`);
  if (Array.isArray(value)) value.forEach((v, i) => assertNoJsonLiterals(v, `${path}[${i}]`));
  else if (typeof value === "object") for (const [k, v] of Object.entries(value as object)) assertNoJsonLiterals(v, `${path}.${k}`);
  else assert.ok(typeof value === "string" || typeof value === "number", `unexpected ${typeof value} at ${path}`);
}

/** Every body a Firstock route answers is JSON without true, false or null (HEAD: no body). */
export function checkFirstockBody(body: string, method = "POST"): unknown {
  if (method === "HEAD") {
    assert.equal(body, "");
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    assert.fail(`a Firstock response that is not JSON: ${body.slice(0, 200)}`);
  }
  assertNoJsonLiterals(parsed);
  walkedResponses += 1;
  return parsed;
}

/** Any request to the door; every answer's body is checked by checkFirstockBody. */
export async function send(app: HttpApp, options: InjectOptions): Promise<Response> {
  const res = await app.inject(options);
  checkFirstockBody(res.body, String(options.method ?? "GET").toUpperCase());
  return res;
}

/** A POST with a JSON body, as the SDKs send it (`Content-Type: application/json`). */
export function post(app: HttpApp, route: "login" | "logout" | "userDetails", body: unknown): Promise<Response> {
  return send(app, {
    method: "POST",
    url: `/api/V4/${route}`,
    headers: { "content-type": "application/json" },
    payload: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function loginBody(userId: string, password = PASSWORD, extra: Partial<Record<"TOTP" | "vendorCode" | "apiKey", string>> = {}) {
  return { userId, password: sha256hex(password), TOTP: "", vendorCode: VENDOR.vendorCode, apiKey: VENDOR.apiKey, ...extra };
}

export function firstockLogin(app: HttpApp, userId: string, password = PASSWORD, extra: Partial<Record<"TOTP" | "vendorCode" | "apiKey", string>> = {}) {
  return post(app, "login", loginBody(userId, password, extra));
}

export interface LoginData {
  actid: string;
  userName: string;
  susertoken: string;
  email: string;
}

/** A successful Firstock sign-in; returns data (susertoken is the jKey). */
export async function signInFirstock(app: HttpApp, userId: string, password = PASSWORD): Promise<LoginData> {
  const res = await firstockLogin(app, userId, password);
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { data: LoginData }).data;
}

export function logout(app: HttpApp, userId: string, jKey: string): Promise<Response> {
  return post(app, "logout", { userId, jKey });
}

export function userDetails(app: HttpApp, userId: string, jKey: string): Promise<Response> {
  return post(app, "userDetails", { userId, jKey });
}

export interface Failure {
  status: "failed";
  code: string;
  name: string;
  error: { field: string; message: string };
}

/**
 * The failure envelope: HTTP status in `statuses`, `code` equal to it as a string, exactly the
 * vendor's keys in the vendor's order, strings only, JSON, not cacheable, and nothing that looks like
 * a stack trace, a file path or SQL (SEC-66).
 */
export function assertFailure(res: Response, statuses: number | readonly number[], name?: string): Failure {
  const allowed = typeof statuses === "number" ? [statuses] : statuses;
  assert.ok(allowed.includes(res.statusCode), `expected ${allowed.join("/")}, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers["content-type"]), /^application\/json; charset=utf-8$/);
  assert.match(String(res.headers["cache-control"] ?? ""), /\bno-store\b/);
  const body = JSON.parse(res.body) as Failure;
  assert.deepEqual(Object.keys(body), ["status", "code", "name", "error"]);
  assert.deepEqual(Object.keys(body.error), ["field", "message"]);
  assert.equal(body.status, "failed");
  assert.equal(body.code, String(res.statusCode));
  assert.equal(typeof body.name, "string");
  assert.match(body.name, /^[A-Z_]+$/);
  assert.equal(typeof body.error.field, "string");
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
  assert.doesNotMatch(res.body, /\bat .+:\d+:\d+|\.ts:\d+|node_modules|SQLITE|SELECT |INSERT |UPDATE |Unexpected token|position \d/);
  if (name !== undefined) assert.equal(body.name, name);
  return body;
}

/** The V4 Logout page's INVALID_JKEY, byte for byte, with HTTP 401. */
export function assertInvalidJKey(res: Response): void {
  assert.equal(res.statusCode, 401, res.body);
  assert.equal(res.body, INVALID_JKEY);
  assertFailure(res, 401, "INVALID_JKEY");
}

/** The jKey authenticates its user at userDetails. */
export async function assertJKeyLive(app: HttpApp, userId: string, jKey: string): Promise<void> {
  const res = await userDetails(app, userId, jKey);
  assert.equal(res.statusCode, 200, `expected a live jKey: ${res.body.slice(0, 300)}`);
  assert.equal((JSON.parse(res.body) as { status: string }).status, "success");
}

/** The jKey authenticates nobody: userDetails answers the vendor's INVALID_JKEY. */
export async function assertJKeyDead(app: HttpApp, userId: string, jKey: string): Promise<void> {
  assertInvalidJKey(await userDetails(app, userId, jKey));
}

/** Headers that must not differ between two answers meant to be indistinguishable (date and request id aside). */
export function comparableHeaders(res: Response): Record<string, unknown> {
  const { date: _d, "x-request-id": _r, ...rest } = res.headers;
  return rest;
}
