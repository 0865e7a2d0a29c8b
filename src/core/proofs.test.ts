/** Session-bound proofs (core/proofs.ts): the Kratos logout token (D4) and the session CSRF token (D12). */
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { Proofs } from "./proofs.ts";

const SECRET = "s".repeat(32);
const proofs = new Proofs(SECRET);

describe("session-bound proofs", () => {
  test("D4, D12: a proof is base64url(HMAC-SHA256(secret, purpose + ':' + session id))", () => {
    const id = randomUUID();
    for (const purpose of ["logout", "csrf"] as const) {
      assert.equal(proofs.mint(purpose, id), createHmac("sha256", SECRET).update(`${purpose}:${id}`).digest("base64url"));
      assert.match(proofs.mint(purpose, id), /^[A-Za-z0-9_-]{43}$/);
    }
  });

  test("D4: stable for the life of a session, different across sessions and across server secrets", () => {
    const id = randomUUID();
    assert.equal(proofs.mint("logout", id), proofs.mint("logout", id));
    assert.equal(new Set(Array.from({ length: 100 }, () => proofs.mint("logout", randomUUID()))).size, 100);
    assert.notEqual(proofs.mint("logout", id), new Proofs("t".repeat(32)).mint("logout", id));
  });

  test("house rule 9: a CSRF token is never a logout token, nor the other way round", () => {
    const id = randomUUID();
    assert.notEqual(proofs.mint("csrf", id), proofs.mint("logout", id));
    assert.equal(proofs.verify("logout", id, proofs.mint("csrf", id)), false);
    assert.equal(proofs.verify("csrf", id, proofs.mint("logout", id)), false);
  });

  test("SEC-55: verify accepts exactly the proof of that purpose and session", () => {
    const id = randomUUID();
    const proof = proofs.mint("csrf", id);
    assert.equal(proofs.verify("csrf", id, proof), true);
    assert.equal(proofs.verify("csrf", randomUUID(), proof), false, "another session's proof");
    for (const presented of [undefined, null, "", proof.slice(0, -1), proof + "A", proof.toUpperCase(), ` ${proof}`]) {
      assert.equal(proofs.verify("csrf", id, presented), false, String(presented));
    }
  });
});
