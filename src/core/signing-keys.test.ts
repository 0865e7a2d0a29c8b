/** The provider's signing keys: what a key set must be, rotation, and a reload that swaps them in place. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeProtectedHeader } from "jose";
import { SigningKeys } from "./signing-keys.ts";

const ISSUER = "https://curfew.example/";

describe("SigningKeys", () => {
  it("refuses what is not a set of private RSA keys of 2048 bits or more, with distinct kids", async () => {
    const good = await SigningKeys.generate();
    const { d: _d, ...publicOnly } = good;
    for (const [jwks, problem] of [
      [null, /expected a JWKS/],
      [{ keys: [] }, /expected a JWKS/],
      [{ keys: [publicOnly] }, /private RSA JWK/],
      [{ keys: [{ ...good, kty: "EC" }] }, /private RSA JWK/],
      [{ keys: [{ ...good, n: Buffer.alloc(128, 1).toString("base64url") }] }, /at least 2048 bits/],
      [{ keys: [good, good] }, /share one kid/],
    ] as const) {
      await assert.rejects(SigningKeys.load(jwks), problem);
    }
  });

  it("rotation puts a new key first and keeps the two newest old ones; the JWKS has no private member", async () => {
    const [a, b, c] = [await SigningKeys.generate(), await SigningKeys.generate(), await SigningKeys.generate()];
    const rotated = await SigningKeys.rotated({ keys: [a, b, c] });
    assert.equal(rotated.keys.length, 3);
    assert.deepEqual(rotated.keys.slice(1).map((k) => k.kid), [a.kid, b.kid], "the oldest goes");
    assert.ok(![a.kid, b.kid, c.kid].includes(rotated.keys[0]!.kid));
    const keys = await SigningKeys.load(rotated);
    for (const jwk of keys.publicJwks().keys) assert.equal(jwk.d, undefined);
  });

  it("SEC-98: reload: the new first key signs from the next token on, and a token of a kept old key still verifies", async () => {
    const first = await SigningKeys.generate();
    const keys = await SigningKeys.load({ keys: [first] });
    const before = await keys.sign({ iss: ISSUER, sub: "s" });
    const rotated = await SigningKeys.rotated({ keys: [first] });
    await keys.reload(rotated);
    assert.deepEqual(keys.kids(), [rotated.keys[0]!.kid, first.kid]);
    const after = await keys.sign({ iss: ISSUER, sub: "s" });
    assert.equal(decodeProtectedHeader(after).kid, rotated.keys[0]!.kid);
    assert.ok(await keys.verify(before, ISSUER), "signed before the rotation, still verifiable");
    assert.ok(await keys.verify(after, ISSUER));
    // Once the old key is no longer kept, its tokens stop verifying.
    await keys.reload({ keys: [rotated.keys[0]!] });
    assert.equal(await keys.verify(before, ISSUER), null);
  });

  it("reload: a refused set changes nothing", async () => {
    const keys = await SigningKeys.load({ keys: [await SigningKeys.generate()] });
    const kids = keys.kids();
    await assert.rejects(keys.reload({ keys: [{ kty: "oct", k: "x" }] }), /private RSA JWK/);
    assert.deepEqual(keys.kids(), kids);
  });
});
