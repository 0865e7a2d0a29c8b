/**
 * Why a request failed before or beside the core, in one closed union, so that every door says
 * every kind of bad input in its own envelope (SEC-66: a 4xx, never a 500) and a new kind fails
 * to compile until each door has decided how to say it (house rule 6, as for core errors).
 *
 * The classifier reads what Fastify, its body parsers and TypeBox validation throw; a door maps
 * the result totally (`satisfies RequestFailureWords<…>`) and logs through `logRequestFailure`.
 */
import type { FastifyError, FastifyRequest } from "fastify";
import { isCoreError } from "../core/errors.ts";
import { BodyError } from "./json-body.ts";

export type RequestFailure =
  /** A body was required and none came (an empty JSON body). */
  | { kind: "empty_body" }
  /** The body is not valid JSON, or not valid UTF-8. */
  | { kind: "malformed"; message: string }
  /** A JSON object repeats a key (SEC-70, BAD-J12). */
  | { kind: "duplicate_key"; message: string }
  /** A JSON key that could pollute a prototype (SEC-73, BAD-J15). */
  | { kind: "forbidden_key"; message: string }
  /** JSON nested deeper than the parser allows (BAD-J05). */
  | { kind: "too_deep"; message: string }
  /** A declared charset other than UTF-8 (BAD-J06). */
  | { kind: "charset"; message: string }
  /** A Content-Encoding (gzip, …) that no door decodes (BAD-J07). */
  | { kind: "encoding"; message: string }
  /** A body over the listener's limit (SEC-67). */
  | { kind: "too_large" }
  /** A Content-Type the route has no parser for (SEC-68). */
  | { kind: "media_type"; method: string; contentType: string }
  /**
   * Schema validation refused a part of the request. `field` is the property at fault (or "" when
   * the whole part is wrong), `problem` says how.
   */
  | { kind: "validation"; part: string; field: string; problem: "missing" | "unknown" | "invalid"; message: string }
  /** Any other client error Fastify raised (its own status and message). */
  | { kind: "client_error"; status: number; message: string }
  /** Anything else: a bug or an unexpected fault, answered 500 and logged. */
  | { kind: "internal" };

export type RequestFailureKind = RequestFailure["kind"];

/** A door's words for every kind of request failure. */
export type RequestFailureWords<W> = { [K in RequestFailureKind]: (failure: Extract<RequestFailure, { kind: K }>) => W };

/** Says a failure in a door's words, by its total map. */
export function sayRequestFailure<W>(words: RequestFailureWords<W>, failure: RequestFailure): W {
  return (words[failure.kind] as (f: RequestFailure) => W)(failure);
}

const BODY_KINDS = {
  empty: "empty_body",
  malformed: "malformed",
  duplicate_key: "duplicate_key",
  forbidden_key: "forbidden_key",
  too_deep: "too_deep",
  charset: "charset",
  encoding: "encoding",
} as const satisfies Record<BodyError["problem"], RequestFailureKind>;

export function classifyRequestFailure(error: FastifyError, request: FastifyRequest): RequestFailure {
  if (error instanceof BodyError) {
    const kind = BODY_KINDS[error.problem];
    return kind === "empty_body" ? { kind } : { kind, message: error.message };
  }
  if (error.validation) {
    const v = error.validation[0];
    const params = (v?.params ?? {}) as { missingProperty?: string; additionalProperty?: string; additionalProperties?: string[] };
    const unknown = params.additionalProperty ?? params.additionalProperties?.[0];
    const field = params.missingProperty ?? unknown ?? (v?.instancePath ?? "").replace(/^\//, "");
    const problem = params.missingProperty !== undefined ? "missing" : unknown !== undefined ? "unknown" : "invalid";
    return { kind: "validation", part: error.validationContext ?? "request", field, problem, message: error.message };
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { kind: "too_large" };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { kind: "media_type", method: request.method, contentType: String(request.headers["content-type"] ?? "") };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { kind: "empty_body" };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { kind: "client_error", status, message: error.message };
  return { kind: "internal" };
}

/**
 * The one log line of a failed request, whatever the door: a store that did not answer, with its
 * cause (INV-3 is visible to operators, not only to clients), and any answer of 500 or more that
 * no rule produced. Bad input is the client's and is not logged.
 */
export function logRequestFailure(request: FastifyRequest, error: unknown, status: number): void {
  if (isCoreError(error, "STORE_UNAVAILABLE")) request.log.error({ err: error.cause }, "store unavailable");
  else if (status >= 500 && !isCoreError(error)) request.log.error({ err: error }, "unhandled error");
}
