/**
 * A relying app of Curfew's single sign-on, written with Auth0's express-openid-connect and
 * nothing Curfew-specific: discovery from the issuer, the code flow, `idpLogout` (sign out of the
 * app signs out of Curfew, through `end_session_endpoint`), and back-channel logout (signed out
 * elsewhere, the app's session ends too). README "Try single sign-on" runs two of these.
 *
 *   ISSUER=http://localhost:4433/ CLIENT_ID=demo-web CLIENT_SECRET=… PORT=3000 \
 *     node --import tsx examples/sso-app.ts
 */
import type { Server } from "node:http";
import express from "express";
import { auth } from "express-openid-connect";

export interface SsoAppOptions {
  /** Curfew's issuer, e.g. `http://localhost:4433/`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  port: number;
}

/** The callback-style store express-openid-connect keeps back-channel logout markers in. */
function memoryStore() {
  const data = new Map<string, unknown>();
  return {
    get: (key: string, cb: (e: null, v?: unknown) => void) => cb(null, data.get(key)),
    set: (key: string, value: unknown, cb: (e: null) => void) => {
      data.set(key, value);
      cb(null);
    },
    destroy: (key: string, cb: (e: null) => void) => {
      data.delete(key);
      cb(null);
    },
  };
}

export function startSsoApp(options: SsoAppOptions): Promise<Server> {
  const { clientId, port } = options;
  const app = express();
  app.use(
    auth({
      issuerBaseURL: options.issuer,
      baseURL: `http://localhost:${port}`,
      clientID: clientId,
      clientSecret: options.clientSecret,
      secret: `${clientId}-cookie-secret-change-me-0123456789`,
      authRequired: false,
      // Signing out of the app signs out of Curfew too.
      idpLogout: true,
      authorizationParams: { response_type: "code", scope: "openid email" },
      // Browsers keep cookies per host, not per port: each app on localhost needs its own name.
      session: { name: `${clientId.replace(/[^A-Za-z0-9]/g, "")}Session` },
      // Curfew POSTs a logout token to /backchannel-logout when the session ends anywhere.
      backchannelLogout: { store: memoryStore() as never },
    }),
  );
  app.get("/", (req, res) => {
    const user = req.oidc.user;
    res.type("html").send(
      user
        ? `<p>${clientId}: signed in as ${String(user.email ?? user.sub)}.</p><p><a href="/logout">Sign out</a></p>`
        : `<p>${clientId}: signed out.</p><p><a href="/login">Sign in</a></p>`,
    );
  });
  app.get("/me", (req, res) => {
    res.json({ signedIn: req.oidc.isAuthenticated(), email: req.oidc.user?.email ?? null });
  });
  return new Promise((resolve) => {
    const server = app.listen(port, () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const env = (name: string, fallback?: string): string => {
    const value = process.env[name] ?? fallback;
    if (value === undefined) throw new Error(`${name} is required`);
    return value;
  };
  const port = Number(env("PORT", "3000"));
  await startSsoApp({ issuer: env("ISSUER", "http://localhost:4433/"), clientId: env("CLIENT_ID"), clientSecret: env("CLIENT_SECRET"), port });
  console.log(`${env("CLIENT_ID")} on http://localhost:${port}`);
}
