/**
 * Session-bound proofs: values that prove a request was made by someone who could read a page
 * or an answer of ours for one particular session, without storing anything.
 *
 * A proof is base64url(HMAC-SHA256(server secret, purpose + ":" + session id)): stable for the life
 * of the session, useless once it has ended (every use also needs the session to be live), and
 * different for each purpose, so a CSRF token is never a logout token.
 * - `logout`: the Kratos logout token is `ory_lo_` + this proof (D4);
 * - `csrf`: the token the built-in pages' forms and the Assets door's `X-CSRF-TOKEN` carry (D12,
 *   D15; the first of the two CSRF layers, house rule 9);
 * - `sid`: the session's `sid` in ID tokens and logout tokens (OpenID Connect Front-Channel Logout
 *   1.0 §3), one per session for every app, so it names the session without being its id.
 * The doors mint and check proofs only through here; none of them holds the server secret.
 */
import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./tokens.ts";

export type ProofPurpose = "logout" | "csrf" | "sid";

export class Proofs {
  constructor(private readonly secret: string) {}

  /** The proof of `purpose` for the session `sessionId`. */
  mint(purpose: ProofPurpose, sessionId: string): string {
    return createHmac("sha256", this.secret).update(`${purpose}:${sessionId}`).digest("base64url");
  }

  /** Whether `presented` is that proof, compared in constant time (SEC-55; the lengths are not secret). */
  verify(purpose: ProofPurpose, sessionId: string, presented: string | null | undefined): boolean {
    return !!presented && constantTimeEqual(this.mint(purpose, sessionId), presented);
  }
}
