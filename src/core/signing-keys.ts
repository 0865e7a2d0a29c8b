/**
 * The provider's signing keys: RS256 key pairs that sign ID tokens and back-channel logout
 * tokens, and the public JWKS relying apps verify them with. All JWS work goes through `jose`;
 * there is no hand-written crypto here.
 *
 * The first key of the set signs; the others are kept only so that tokens they signed still
 * verify after a rotation (`curfew signing-keys rotate` keeps two old ones). Where the keys live is
 * the composition root's business (configuration, or a 0600 file beside the secret, D3); the core
 * is handed the private JWKS.
 */
import { type CryptoKey, type JWK, type JWTPayload, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, decodeProtectedHeader } from "jose";

export const SIGNING_ALG = "RS256";

/** A private JWKS as configuration and the key file hold it. */
export interface PrivateJwks {
  keys: JWK[];
}

interface LoadedKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export class SigningKeys {
  private constructor(private keys: readonly LoadedKey[]) {}

  /**
   * Loads a private JWKS. Throws a plain Error naming the problem (for configuration to report):
   * every key must be an RSA private key of at least 2048 bits; a missing `kid` is its RFC 7638
   * thumbprint.
   */
  static async load(jwks: unknown): Promise<SigningKeys> {
    const list = (jwks as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list) || list.length === 0) throw new Error("expected a JWKS: {\"keys\": [private RSA JWK, …]}");
    const keys: LoadedKey[] = [];
    for (const [i, raw] of list.entries()) {
      const jwk = raw as JWK;
      if (jwk.kty !== "RSA" || typeof jwk.d !== "string" || typeof jwk.n !== "string") {
        throw new Error(`key ${i}: must be a private RSA JWK (kty "RSA" with "d")`);
      }
      if (Buffer.from(jwk.n, "base64url").length < 256) throw new Error(`key ${i}: an RSA modulus of at least 2048 bits is required`);
      const kid = typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : await calculateJwkThumbprint(jwk);
      try {
        const privateKey = (await importJWK({ ...jwk, alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey;
        const publicJwk: JWK = { kty: "RSA", n: jwk.n, e: jwk.e as string, kid, alg: SIGNING_ALG, use: "sig" };
        const publicKey = (await importJWK(publicJwk, SIGNING_ALG)) as CryptoKey;
        keys.push({ kid, privateKey, publicKey, publicJwk });
      } catch (error) {
        throw new Error(`key ${i}: ${(error as Error).message}`);
      }
    }
    if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw new Error("two keys share one kid");
    return new SigningKeys(keys);
  }

  /**
   * Takes the keys of another JWKS in place of these, at once (SIGHUP after a rotation): every
   * holder of this object signs with the new first key from the next token on. The new set is
   * checked whole first; when it is refused, these keys stay and the error says why.
   */
  async reload(jwks: unknown): Promise<void> {
    this.keys = (await SigningKeys.load(jwks)).keys;
  }

  /** The key ids, the signing one first. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  /**
   * Rotation: a new key first, to sign from now on, and the newest `keep` of the old ones after it,
   * so tokens they signed still verify until they expire (ID tokens live an hour).
   */
  static async rotated(jwks: PrivateJwks, keep = 2): Promise<PrivateJwks> {
    return { keys: [await SigningKeys.generate(), ...jwks.keys.slice(0, keep)] };
  }

  /** A new RS256 key pair, as a private JWK with its thumbprint as `kid`. */
  static async generate(): Promise<JWK> {
    const { privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(privateKey);
    return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALG, use: "sig" };
  }

  /** The public keys, as `/.well-known/jwks.json` serves them (never a private member). */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** Signs `claims` as a compact JWS with the current key; `typ` sets the explicit type (RFC 8725 §3.11). */
  async sign(claims: JWTPayload, typ?: string): Promise<string> {
    const key = this.keys[0]!;
    return new SignJWT(claims).setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, ...(typ ? { typ } : {}) }).sign(key.privateKey);
  }

  /**
   * Whether `jws` is an RS256 JWS naming a key id that is not (or no longer) one of ours: what an
   * ID token signed before its key was rotated out looks like. Says nothing about who signed it.
   */
  namesUnknownKey(jws: string): boolean {
    try {
      const header = decodeProtectedHeader(jws);
      return header.alg === SIGNING_ALG && typeof header.kid === "string" && !this.keys.some((k) => k.kid === header.kid);
    } catch {
      return false;
    }
  }

  /**
   * The claims of a JWS one of our keys signed with RS256 for `issuer`, or null for anything else:
   * `alg: none`, HS256 (over our public key or not), a foreign key, a malformed token. The expiry
   * is not checked: RP-Initiated Logout 1.0 §4 accepts an expired `id_token_hint`, and the caller
   * decides what an old token may still do.
   */
  async verify(jws: string, issuer: string): Promise<{ claims: JWTPayload; typ: string | undefined } | null> {
    let kid: string | undefined;
    let typ: string | undefined;
    try {
      const header = decodeProtectedHeader(jws);
      if (header.alg !== SIGNING_ALG) return null;
      kid = header.kid;
      typ = header.typ;
    } catch {
      return null;
    }
    const key = this.keys.find((k) => k.kid === kid);
    if (!key) return null;
    try {
      const { payload } = await jwtVerify(jws, key.publicKey, {
        algorithms: [SIGNING_ALG],
        issuer,
        // Expiry (and not-before) are the caller's decision (see above).
        clockTolerance: Number.MAX_SAFE_INTEGER,
      });
      return { claims: payload, typ };
    } catch {
      return null;
    }
  }
}
