/**
 * The relying apps of single sign-on (OpenID Connect clients). The store keeps them all, those
 * of the configuration (synchronised at start) and those of the admin API, so every node and the
 * revoking transaction read one list. Client secrets are kept as SHA-256 only (D1) and checked in
 * constant time. What makes an app's metadata acceptable is written once, here, for both sources.
 */
import { randomBytes } from "node:crypto";
import { throwAsStoreFailure } from "./errors.ts";
import type { ClientAuthMethod, RelyingApp } from "./model.ts";
import type { Clock, Store } from "./ports.ts";
import { appUriProblem, parseLogoutUrlPattern } from "./redirect-gate.ts";
import { hashSecret, secretMatches } from "./tokens.ts";

/**
 * An app as its owner describes it: RFC 7591 §2 client metadata (plus Auth0's
 * `allowed_logout_urls`), the names configuration and the admin API both take.
 */
export interface ClientMetadata {
  client_id: string;
  client_secret?: string | undefined;
  token_endpoint_auth_method: ClientAuthMethod;
  redirect_uris: readonly string[];
  post_logout_redirect_uris: readonly string[];
  allowed_logout_urls: readonly string[];
  web_origins: readonly string[];
  backchannel_logout_uri?: string | undefined;
  backchannel_logout_session_required: boolean;
  frontchannel_logout_uri?: string | undefined;
  frontchannel_logout_session_required: boolean;
}

/** An app's definition, without where it came from and when. */
export type AppDefinition = Omit<RelyingApp, "source" | "createdAt" | "updatedAt">;

/**
 * Metadata → definition, with every problem found, each naming its RFC 7591 field. URIs must be
 * absolute http(s) without fragment or userinfo (redirect gate); web origins bare origins;
 * Auth0 logout URL patterns parseable; a confidential app has a secret and a public one none.
 */
export function defineApp(m: ClientMetadata): { app: AppDefinition; problems: string[] } {
  const problems: string[] = [];
  // RFC 6749 Appendix A.1 allows any VSCHAR; printable ASCII without space keeps ids safe in paths and logs.
  if (!/^[\x21-\x7e]{1,255}$/.test(m.client_id)) problems.push("client_id: 1 to 255 printable ASCII characters, no spaces");
  const uri = (field: string, value: string) => {
    const problem = appUriProblem(value);
    if (problem) problems.push(`${field}: ${problem}`);
  };
  for (const u of m.redirect_uris) uri("redirect_uris", u);
  for (const u of m.post_logout_redirect_uris) uri("post_logout_redirect_uris", u);
  if (m.backchannel_logout_uri !== undefined) uri("backchannel_logout_uri", m.backchannel_logout_uri);
  if (m.frontchannel_logout_uri !== undefined) uri("frontchannel_logout_uri", m.frontchannel_logout_uri);
  for (const o of m.web_origins) {
    if (appUriProblem(o) !== null || new URL(o).origin !== o.replace(/\/$/, "")) problems.push(`web_origins: "${o}" is not an origin (scheme://host[:port])`);
  }
  for (const u of m.allowed_logout_urls) {
    try {
      parseLogoutUrlPattern(u);
    } catch (error) {
      problems.push(`allowed_logout_urls: ${(error as Error).message}`);
    }
  }
  const confidential = m.token_endpoint_auth_method !== "none";
  if (confidential && m.client_secret === undefined) problems.push(`client_secret: required with ${m.token_endpoint_auth_method}`);
  if (!confidential && m.client_secret !== undefined) problems.push("client_secret: a public app (token_endpoint_auth_method none) has no secret");
  return {
    problems,
    app: {
      clientId: m.client_id,
      secretHash: confidential && m.client_secret !== undefined ? hashSecret(m.client_secret) : null,
      authMethod: m.token_endpoint_auth_method,
      redirectUris: [...m.redirect_uris],
      postLogoutRedirectUris: [...m.post_logout_redirect_uris],
      allowedLogoutUrls: [...m.allowed_logout_urls],
      webOrigins: m.web_origins.map((o) => o.replace(/\/$/, "")),
      backchannelLogoutUri: m.backchannel_logout_uri ?? null,
      backchannelLogoutSessionRequired: m.backchannel_logout_session_required,
      frontchannelLogoutUri: m.frontchannel_logout_uri ?? null,
      frontchannelLogoutSessionRequired: m.frontchannel_logout_session_required,
    },
  };
}

/** Why the admin API could not write an app; the door says it on its wire. */
export type AppChangeRefusal =
  /** The metadata has problems (`defineApp`); nothing was written. */
  | { refused: "invalid"; problems: string[] }
  /** The client_id is taken (create). */
  | { refused: "exists" }
  /** The app is defined in configuration: change it there. */
  | { refused: "configured" }
  | { refused: "not_found" };

/** What creating an app gives back: the app and, for a confidential one, its secret, shown this once. */
export interface CreatedApp {
  app: RelyingApp;
  secret: string | null;
}

export class RelyingApps {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Makes the store's configuration apps exactly these (start-up). */
  async syncConfig(apps: readonly AppDefinition[]): Promise<void> {
    const now = this.clock.now();
    await this.store.syncConfigApps(apps.map((app) => ({ ...app, source: "config", createdAt: now, updatedAt: now }))).catch(throwAsStoreFailure);
  }

  async find(clientId: string): Promise<RelyingApp | null> {
    return this.store.findApp(clientId).catch(throwAsStoreFailure);
  }

  async list(): Promise<RelyingApp[]> {
    return this.store.listApps().catch(throwAsStoreFailure);
  }

  /**
   * An app of the admin API. Curfew generates the secret of a confidential app (32 random bytes)
   * and the client_id when none is given (RFC 7591 §3.2.1: the server issues them); the secret
   * is returned this once and kept as its hash only.
   */
  async create(metadata: Omit<ClientMetadata, "client_secret" | "client_id"> & { client_id?: string | undefined }): Promise<CreatedApp | AppChangeRefusal> {
    const secret = metadata.token_endpoint_auth_method === "none" ? null : randomBytes(32).toString("base64url");
    const clientId = metadata.client_id ?? randomBytes(16).toString("base64url");
    const { app, problems } = defineApp({ ...metadata, client_id: clientId, client_secret: secret ?? undefined });
    if (problems.length > 0) return { refused: "invalid", problems };
    const now = this.clock.now();
    const stored: RelyingApp = { ...app, source: "admin", createdAt: now, updatedAt: now };
    if (!(await this.store.insertApp(stored).catch(throwAsStoreFailure))) return { refused: "exists" };
    return { app: stored, secret };
  }

  /**
   * Replaces an admin API app's metadata (RFC 7592 §2.2: the whole of it); its secret stays. An
   * app does not switch between confidential and public here: that is another app, with or
   * without a secret, so it is deleted and created again.
   */
  async replace(clientId: string, metadata: Omit<ClientMetadata, "client_secret" | "client_id">): Promise<RelyingApp | AppChangeRefusal> {
    const current = await this.find(clientId);
    if (!current) return { refused: "not_found" };
    if (current.source === "config") return { refused: "configured" };
    if ((current.authMethod === "none") !== (metadata.token_endpoint_auth_method === "none")) {
      return {
        refused: "invalid",
        problems: ["token_endpoint_auth_method: an app does not switch between public (none) and confidential; delete it and create it again"],
      };
    }
    // The kept secret stands in for the presented one: only its presence is checked.
    const { app, problems } = defineApp({ ...metadata, client_id: clientId, client_secret: current.secretHash === null ? undefined : "kept" });
    if (problems.length > 0) return { refused: "invalid", problems };
    const stored: RelyingApp = { ...app, secretHash: current.secretHash, source: "admin", createdAt: current.createdAt, updatedAt: this.clock.now() };
    if (!(await this.store.updateApp(stored).catch(throwAsStoreFailure))) return { refused: "not_found" };
    return stored;
  }

  /** Deletes an admin API app and everything it was given (codes, tokens, participation). */
  async remove(clientId: string): Promise<true | AppChangeRefusal> {
    const current = await this.find(clientId);
    if (!current) return { refused: "not_found" };
    if (current.source === "config") return { refused: "configured" };
    return (await this.store.deleteApp(clientId).catch(throwAsStoreFailure)) ? true : { refused: "not_found" };
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
