/**
 * The strict JSON body parser every door shares (SEC-70, SEC-73; BAD-J01..J15).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BodyError, type BodyProblem, assertUtf8, parseStrictJson } from "./json-body.ts";

function refused(text: string, problem: BodyProblem): void {
  assert.throws(
    () => parseStrictJson(text),
    (error: unknown) => {
      assert.ok(error instanceof BodyError, `expected a BodyError for ${JSON.stringify(text.slice(0, 80))}, got ${String(error)}`);
      assert.equal(error.problem, problem, JSON.stringify(text.slice(0, 80)));
      return true;
    },
  );
}

describe("parseStrictJson", () => {
  test("parses ordinary bodies exactly as JSON.parse does", () => {
    for (const text of [
      '{"userId":"AA0013","jKey":"abc"}',
      ' {\n  "a": 1,\n  "b": [true, false, null],\n  "c": {"d": -1.5e3}\n} ',
      '{"emoji":"\\ud83d\\ude00","unicode":"pässwörd"}',
      "{}",
      "[]",
    ]) {
      assert.deepEqual(parseStrictJson(text), JSON.parse(text));
    }
  });

  test("BAD-J01 an empty or blank body is refused as empty", () => {
    for (const text of ["", " ", "\n\t\r "]) refused(text, "empty");
  });

  test("BAD-J02 malformed JSON is refused without echoing the input", () => {
    for (const text of ["{", '{"userId":"A",}', "NaN", "'single'", '{"a":1}}', '{"a":"unterminated}', '{"a" 1}', "{a:1}"]) {
      refused(text, "malformed");
      try {
        parseStrictJson(text);
      } catch (error) {
        assert.equal((error as Error).message, "The request body is not valid JSON.");
      }
    }
  });

  test("BAD-J02 a byte order mark before the JSON is refused", () => {
    refused('\uFEFF{"userId":"A"}', "malformed");
  });

  test("BAD-J12 duplicate keys are refused (SEC-70)", () => {
    refused('{"userId":"A","userId":"B"}', "duplicate_key");
    refused('{"a":1,"b":2,"a":3}', "duplicate_key");
    refused('{"outer":{"x":1,"x":1}}', "duplicate_key");
    refused('[{"a":1,"a":2}]', "duplicate_key");
  });

  test("BAD-J12 keys that are equal once unescaped are duplicates", () => {
    refused('{"a":1,"\\u0061":2}', "duplicate_key");
    refused('{"userId":"A","user\\u0049d":"B"}', "duplicate_key");
    refused('{"a/b":1,"a\\/b":2}', "duplicate_key");
    refused('{"a\\"b":1,"a\\"b":2}', "duplicate_key");
  });

  test("SEC-70 the same key in different objects is fine, at any depth", () => {
    const text = '{"id":1,"items":[{"id":2,"tags":[{"id":3},{"id":4}]},{"id":5,"child":{"id":6}}],"child":{"id":7}}';
    assert.deepEqual(parseStrictJson(text), JSON.parse(text));
    assert.deepEqual(parseStrictJson('[{"a":1},{"a":2},[{"a":3}]]'), [{ a: 1 }, { a: 2 }, [{ a: 3 }]]);
    assert.deepEqual(parseStrictJson('{"a":{"a":{"a":1}}}'), { a: { a: { a: 1 } } });
  });

  test("SEC-70 strings holding braces, brackets, quotes, colons and commas do not confuse the scan", () => {
    const values = [
      '{"a":1,"a":2}',
      "}{",
      '","a":"',
      "a:b,c",
      "[{]}",
      "\\",
      'tricky \\" quote',
    ];
    for (const v of values) {
      const body = JSON.stringify({ a: v, b: v, c: [v, { a: v }] });
      assert.deepEqual(parseStrictJson(body), JSON.parse(body), body);
    }
    // A key ending in an escaped backslash ends where it should.
    assert.deepEqual(parseStrictJson('{"a\\\\":1,"a":2}'), { "a\\": 1, a: 2 });
    // A colon or comma inside a key is part of the key.
    assert.deepEqual(parseStrictJson('{"a,b":1,"a:b":2,"a":3}'), { "a,b": 1, "a:b": 2, a: 3 });
  });

  test("SEC-70 a value equal to a key name is not a key", () => {
    assert.deepEqual(parseStrictJson('{"a":"a","b":["a","a"]}'), { a: "a", b: ["a", "a"] });
  });

  test("BAD-J15 __proto__ and constructor keys are refused, at any depth and however escaped (SEC-73)", () => {
    for (const text of [
      '{"__proto__":{"isAdmin":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{"a":{"b":[{"__proto__":1}]}}',
      '{"\\u005f_proto__":{}}',
      '{"constr\\u0075ctor":1}',
    ]) {
      refused(text, "forbidden_key");
    }
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined, "no prototype was polluted");
    // As values they are ordinary strings.
    assert.deepEqual(parseStrictJson('{"name":"__proto__","role":"constructor"}'), { name: "__proto__", role: "constructor" });
  });

  test("BAD-J05 nesting is bounded at 32 levels, without recursion", () => {
    const nest = (depth: number, open: string, close: string, inner: string) => open.repeat(depth) + inner + close.repeat(depth);
    assert.doesNotThrow(() => parseStrictJson(nest(32, "[", "]", "1")));
    refused(nest(33, "[", "]", "1"), "too_deep");
    const objects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    assert.doesNotThrow(() => parseStrictJson(objects(32)));
    refused(objects(33), "too_deep");
    // BAD-J05: 100,000 levels is refused quickly, not a stack overflow.
    refused(objects(100_000), "too_deep");
    refused(nest(100_000, "[", "]", ""), "too_deep");
  });

  test("BAD-J03 the top-level shape is left to the route's schema", () => {
    assert.deepEqual(parseStrictJson("[]"), []);
    assert.equal(parseStrictJson('"str"'), "str");
    assert.equal(parseStrictJson("null"), null);
    assert.equal(parseStrictJson("1"), 1);
  });
});

describe("assertUtf8 (BAD-J06)", () => {
  test("BAD-J06 no charset, utf-8 and utf8 in any case and quoting are accepted", () => {
    for (const contentType of [
      undefined,
      "application/json",
      "application/json; charset=utf-8",
      "application/json;charset=UTF-8",
      'application/json; charset="utf-8"',
      "application/json; Charset=utf8",
    ]) {
      assert.doesNotThrow(() => assertUtf8(contentType), String(contentType));
    }
  });

  test("BAD-J06 any other charset is refused", () => {
    for (const contentType of [
      "application/json; charset=utf-7",
      "application/json; charset=UTF-16",
      "application/json; charset=iso-8859-1",
      'application/json; charset="latin1"',
    ]) {
      assert.throws(
        () => assertUtf8(contentType),
        (error: unknown) => error instanceof BodyError && error.problem === "charset",
        contentType,
      );
    }
  });
});
