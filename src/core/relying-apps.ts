/**
 * The relying apps of single sign-on (OpenID Connect clients). The store keeps them all, those
 * of the configuration (synchronised at start) and those of the admin API, so every node and the
 * revoking transaction read one list. Client secrets are kept as SHA-256 only (D1) and checked in
 * constant time.
 */
import { asStoreFailure } from "./errors.ts";
import type { RelyingApp } from "./model.ts";
import type { Store } from "./ports.ts";
import { secretMatches } from "./tokens.ts";

export class RelyingApps {
  constructor(private readonly store: Store) {}

  /** Makes the store's configuration apps exactly these (start-up). */
  async syncConfig(apps: readonly RelyingApp[]): Promise<void> {
    await this.store.syncConfigApps(apps).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  async find(clientId: string): Promise<RelyingApp | null> {
    return this.store.findApp(clientId).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  async list(): Promise<RelyingApp[]> {
    return this.store.listApps().catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /**
   * Client authentication at the token and revocation endpoints (RFC 6749 §2.3). A confidential
   * app must present its secret by the method it registered, or the other secret method (both
   * are accepted, as Auth0 does); a public app presents none. Null for anything else: an unknown
   * app and a wrong secret are one answer (`invalid_client`).
   */
  async authenticate(presented: PresentedClient): Promise<RelyingApp | null> {
    const app = await this.find(presented.clientId);
    if (!app) return null;
    if (app.authMethod === "none") return presented.secret === null ? app : null;
    if (presented.secret === null || app.secretHash === null) return null;
    return secretMatches(presented.secret, app.secretHash) ? app : null;
  }
}

/** What a request says about its client: the id, and the secret it carried (by either method), if any. */
export interface PresentedClient {
  clientId: string;
  secret: string | null;
}
