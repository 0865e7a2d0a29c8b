/**
 * Single sign-on tests over real sockets: a Curfew whose base URL is `http://localhost:<port>`
 * (the issuer string the client libraries compare), relying apps in its configuration, a person
 * who can sign in, and a cookie-keeping HTTP "browser" that follows Curfew's own redirects and
 * stops at the first one that leaves for an app, so a test sees what an app receives.
 */
import assert from "node:assert/strict";
import { type Curfew, startCurfew } from "./server.ts";
import { PASSWORD } from "./kratos.ts";

export const APP_SECRET = "app-secret-app-secret-app-secret-0123456789";

export interface TestApp {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post" | "none";
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  allowed_logout_urls?: string[];
  web_origins?: string[];
  backchannel_logout_uri?: string;
  frontchannel_logout_uri?: string;
}

/** A confidential app at `origin` with one callback and one post-logout URI. */
export function webApp(clientId: string, origin: string): TestApp {
  return {
    client_id: clientId,
    client_secret: APP_SECRET,
    redirect_uris: [`${origin}/callback`],
    post_logout_redirect_uris: [`${origin}/`],
    allowed_logout_urls: [`${origin}/`],
  };
}

export interface Provider extends Curfew {
  /** The issuer: `<base>/`. */
  issuer: string;
  /** Creates an identity that signs in with PASSWORD. */
  person(email: string): Promise<{ id: string; email: string }>;
}

export async function startProvider(apps: TestApp[], config: Record<string, unknown> = {}): Promise<Provider> {
  const curfew = await startCurfew({ "oidc.clients": apps, "oidc.backchannel.allow_loopback": true, ...config });
  return {
    ...curfew,
    issuer: `${curfew.base}/`,
    async person(email: string) {
      const identity = await curfew.t.server.core.identities.create({ traits: { email }, password: PASSWORD }, "test");
      return { id: identity.id, email };
    },
  };
}

export interface Hop {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
}

/** A cookie-keeping client for one origin: what a browser does with Curfew's redirects and forms. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  header(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
  }

  async request(url: string, init: RequestInit = {}): Promise<Hop> {
    const res = await fetch(url, { ...init, redirect: "manual", headers: { ...this.header(), ...(init.headers as Record<string, string> | undefined) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a) => /max-age=0/i.test(a.trim())) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get("location"), body: await res.text(), headers: res.headers };
  }

  /** Follows redirects while they stay on Curfew; answers the first hop that does not. */
  async navigate(url: string, init: RequestInit = {}): Promise<Hop> {
    let hop = await this.request(url, init);
    for (let i = 0; i < 10 && hop.location !== null && hop.status >= 300 && hop.status < 400; i++) {
      const next = new URL(hop.location, url);
      if (next.origin !== new URL(this.base).origin) return hop;
      url = next.href;
      hop = await this.request(url);
    }
    return hop;
  }

  /**
   * Starting at a URL that leads to the sign-in page (`/ui/login?flow=…`), signs in there as the
   * built-in page's form does, and follows on; answers the first hop that leaves Curfew.
   */
  async signInThrough(url: string, email: string, password = PASSWORD): Promise<Hop> {
    const landed = await this.navigateTo(url);
    const flowId = new URL(landed).searchParams.get("flow");
    assert.ok(flowId, `expected the sign-in page, got ${landed}`);
    const flow = await this.request(`${this.base}/self-service/login/flows?id=${flowId}`, { headers: { accept: "application/json" } });
    assert.equal(flow.status, 200, flow.body);
    const csrf = (JSON.parse(flow.body) as { ui: { nodes: { attributes: { name?: string; value?: unknown } }[] } }).ui.nodes.find(
      (n) => n.attributes.name === "csrf_token",
    )?.attributes.value as string;
    const form = new URLSearchParams({ method: "password", identifier: email, password, csrf_token: csrf });
    const submitted = await this.request(`${this.base}/self-service/login?flow=${flowId}`, {
      method: "POST",
      body: form,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.base },
    });
    assert.equal(submitted.status, 303, submitted.body);
    return this.navigate(new URL(submitted.location!, this.base).href);
  }

  /** Follows redirects on Curfew until a page answers; returns that page's URL. */
  async navigateTo(url: string): Promise<string> {
    let hop = await this.request(url);
    for (let i = 0; i < 10 && hop.location !== null; i++) {
      url = new URL(hop.location, url).href;
      if (new URL(url).origin !== new URL(this.base).origin) break;
      hop = await this.request(url);
    }
    return url;
  }
}
