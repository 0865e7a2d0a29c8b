/**
 * Response documentation shared by every door's routes: what an HTML page or a redirect looks like
 * in the OpenAPI documents (each listener's `/docs/json`). A route whose answers are pages or
 * redirects says so here rather than leaving the generator to guess a 200 with no schema.
 *
 * Fastify serializes with a response schema only an object payload; the pages the doors send are
 * strings, sent as they are, and a redirect has no body: these schemas document, never reshape.
 */
import { Type } from "typebox";

/** An HTML page (a sign-in page, a confirmation, an error page). */
export function htmlPage(description: string) {
  return Type.Unsafe<unknown>({ description, content: { "text/html": { schema: { type: "string" } } } });
}

/** A redirect: the target is in `Location`, and there is no body. */
export function redirectAnswer(description: string) {
  return Type.Unsafe<unknown>({ description, type: "null" });
}
