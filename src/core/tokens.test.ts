/** Session tokens (D1, SEC-01..03) and the Firstock password digest (D11). */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import {
  constantTimeEqual,
  hashSecret,
  isUuid,
  mintSessionToken,
  parseSessionToken,
  passwordDigest,
  secretMatches,
} from "./tokens.ts";

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/;

describe("session tokens (D1)", () => {
  test("D1 a minted token is the session id, a dot, and a 43-character base64url secret", () => {
    const id = randomUUID();
    const { token, secretHash } = mintSessionToken(id);
    assert.match(token, SHAPE);
    assert.ok(token.startsWith(`${id}.`));
    assert.equal(token.length, 36 + 1 + 43);
    // SHA-256 in base64url: 32 bytes, 43 characters.
    assert.match(secretHash, /^[A-Za-z0-9_-]{43}$/);
  });

  test("SEC-03 only SHA-256 of the secret is kept, never the secret itself", () => {
    const { token, secretHash } = mintSessionToken(randomUUID());
    const secret = token.slice(37);
    assert.notEqual(secretHash, secret);
    assert.ok(!token.includes(secretHash));
    assert.equal(secretHash, createHash("sha256").update(secret).digest("base64url"));
    assert.equal(secretHash, hashSecret(secret));
  });

  test("SEC-01 1000 minted tokens are all different, in token and in secret", () => {
    const id = randomUUID();
    const tokens = new Set<string>();
    const hashes = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { token, secretHash } = mintSessionToken(id);
      tokens.add(token);
      hashes.add(secretHash);
    }
    assert.equal(tokens.size, 1000);
    assert.equal(hashes.size, 1000);
  });

  test("D1 parseSessionToken splits a token of our shape", () => {
    const id = randomUUID();
    const { token } = mintSessionToken(id);
    assert.deepEqual(parseSessionToken(token), { sessionId: id, secret: token.slice(37) });
  });

  test("D1 parseSessionToken refuses wrong lengths", () => {
    const { token } = mintSessionToken(randomUUID());
    for (const bad of ["", token.slice(0, -1), token + "A", token.slice(0, 37), `${token}.${token}`]) {
      assert.equal(parseSessionToken(bad), null, JSON.stringify(bad));
    }
  });

  test("D1 parseSessionToken refuses wrong characters and separators", () => {
    const id = randomUUID();
    const secret = mintSessionToken(id).token.slice(37);
    const cases = [
      `${id}:${secret}`, // wrong separator
      `${id.toUpperCase()}.${secret}`, // ids are lower-case UUIDs
      `${id.replaceAll("-", "x")}.${secret}`, // not a UUID
      `${id}.${secret.slice(0, 42)}+`, // base64, not base64url
      `${id}.${secret.slice(0, 42)}/`,
      `${id}.${secret.slice(0, 42)}=`,
      `${id}.${secret.slice(0, 42)}.`,
      `${id}.${secret.slice(0, 42)} `,
      `${id}.${secret.slice(0, 42)}é`,
    ];
    for (const bad of cases) assert.equal(parseSessionToken(bad), null, JSON.stringify(bad));
  });

  test("SEC-02 secretMatches is true only for the right secret", () => {
    const a = mintSessionToken(randomUUID());
    const b = mintSessionToken(randomUUID());
    const secretA = a.token.slice(37);
    const secretB = b.token.slice(37);
    assert.equal(secretMatches(secretA, a.secretHash), true);
    assert.equal(secretMatches(secretB, a.secretHash), false);
    assert.equal(secretMatches(secretA, b.secretHash), false);
    assert.equal(secretMatches("", a.secretHash), false);
    // A stored value of the wrong length matches nothing and does not throw.
    assert.equal(secretMatches(secretA, ""), false);
    assert.equal(secretMatches(secretA, a.secretHash.slice(0, 20)), false);
    assert.equal(secretMatches(secretA, secretA), false);
  });

  test("SEC-02 constantTimeEqual compares strings of any length", () => {
    assert.equal(constantTimeEqual("abc", "abc"), true);
    assert.equal(constantTimeEqual("abc", "abd"), false);
    assert.equal(constantTimeEqual("abc", "abcd"), false);
    assert.equal(constantTimeEqual("", ""), true);
  });

  test("isUuid accepts lower-case UUIDs only", () => {
    assert.equal(isUuid(randomUUID()), true);
    assert.equal(isUuid(randomUUID().toUpperCase()), false);
    assert.equal(isUuid("not-a-uuid"), false);
    assert.equal(isUuid(""), false);
  });
});

describe("password digest (D11)", () => {
  test("D11 passwordDigest is the lower-case hex SHA-256 of the UTF-8 password", () => {
    assert.equal(passwordDigest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(passwordDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(passwordDigest("pässwörd"), createHash("sha256").update(Buffer.from("pässwörd", "utf8")).digest("hex"));
    assert.match(passwordDigest("correct horse battery staple"), /^[0-9a-f]{64}$/);
  });
});
