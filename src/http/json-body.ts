/**
 * The JSON body parser every door shares. Stricter than JSON.parse on purpose:
 * - duplicate keys are refused (SEC-70, BAD-J12): `{"userId":"A","userId":"B"}` would otherwise
 *   mean "B" here and "A" in some other layer;
 * - `__proto__`, `constructor` and `prototype` keys are refused (SEC-73, BAD-J15);
 * - nesting is bounded (BAD-J05), and only UTF-8 is accepted (BAD-J06).
 * The scan runs before JSON.parse, on bodies already bounded by the body limit.
 */
export type BodyProblem = "empty" | "malformed" | "duplicate_key" | "forbidden_key" | "too_deep" | "charset" | "encoding";

export class BodyError extends Error {
  override readonly name = "BodyError";
  /**
   * For routes without a door's error handler (health, /docs, the pages), which answer by
   * Fastify's `statusCode` convention: bad input is a 4xx there too, never a 500 (SEC-66).
   */
  get statusCode(): 400 | 415 {
    return this.problem === "charset" || this.problem === "encoding" ? 415 : 400;
  }
  constructor(
    readonly problem: BodyProblem,
    message: string,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 32;

interface Frame {
  object: boolean;
  keys: Set<string>;
  expectKey: boolean;
}

/** Throws BodyError unless `text` is JSON without duplicate or forbidden keys. */
export function parseStrictJson(text: string): unknown {
  if (text.trim() === "") throw new BodyError("empty", "The request body is empty.");
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") {
      if (stack.length >= MAX_DEPTH) throw new BodyError("too_deep", `JSON nested deeper than ${MAX_DEPTH} levels.`);
      stack.push({ object: c === "{", keys: new Set(), expectKey: c === "{" });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack.at(-1);
      if (top?.object) top.expectKey = true;
    } else if (c === ":") {
      const top = stack.at(-1);
      if (top) top.expectKey = false;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack.at(-1);
      if (top?.object && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          throw new BodyError("malformed", "The request body is not valid JSON.");
        }
        if (key === "__proto__" || key === "constructor" || key === "prototype") throw new BodyError("forbidden_key", `The key "${key}" is not allowed.`);
        if (top.keys.has(key)) throw new BodyError("duplicate_key", `The key "${key}" appears more than once.`);
        top.keys.add(key);
      }
      i = j;
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError("malformed", "The request body is not valid JSON.");
  }
}

// Fatal: JSON must be UTF-8 (RFC 8259 §8.1), and a lenient decoder would turn invalid bytes into
// U+FFFD, so that different byte strings reach the core as the same identifier (BAD-J08).
// ignoreBOM keeps a byte-order mark in the text, where the JSON parser refuses it.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as text; BodyError "malformed" when it is not valid UTF-8. */
export function decodeUtf8(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new BodyError("malformed", "The request body is not valid UTF-8.");
  }
}

/** Refuses a declared charset other than UTF-8 (`application/json; charset=utf-7`, BAD-J06). */
export function assertUtf8(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "")?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new BodyError("charset", `The charset "${charset}" is not supported; send UTF-8.`);
  }
}

/**
 * Refuses a body sent with a content coding (BAD-J07): no door decodes one, so a gzip bomb is never
 * inflated, and a "gzip" body that is really plain JSON is not read as if the header were absent.
 * RFC 9110 §8.4.1 allows 415 for a coding the server does not accept.
 */
export function assertIdentityEncoding(contentEncoding: string | string[] | undefined): void {
  if (contentEncoding === undefined) return;
  const coding = String(contentEncoding).trim().toLowerCase();
  if (coding !== "" && coding !== "identity") throw new BodyError("encoding", "Content-Encoding is not supported; send the body uncompressed.");
}
