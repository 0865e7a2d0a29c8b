/** Helpers for the tests that drive Curfew through Ory's own SDK (`@ory/client-fetch`). */
import assert from "node:assert/strict";
import { ResponseError } from "@ory/client-fetch";

/** The SDK throws ResponseError on any non-2xx; this asserts the status and returns the error body. */
export async function rejectsWith<T = Record<string, unknown>>(status: number, call: Promise<unknown>): Promise<T> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
    assert.equal(error.response.status, status);
    return (await error.response.json()) as T;
  }
  assert.fail(`expected HTTP ${status}, but the call succeeded`);
}
