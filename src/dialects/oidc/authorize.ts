/**
 * The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core 1.0 §3.1.2): `GET|POST
 * /authorize`, code flow only, PKCE S256 (RFC 7636), `response_mode` query, form_post, or Auth0's
 * web_message for silent sign-in in an app's hidden frame (`prompt=none`). The
 * provider session is the browser's Curfew session; without one (or when `prompt=login` or
 * `max_age` ask for a fresh sign-in) the request is held and the browser signs in on the built-in
 * pages, returning to `/authorize/resume`. No consent screen: apps are configured by the operator.
 */
import { htmlPage, redirectAnswer } from "../../http/openapi.ts";
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { SUPPORTED_SCOPES } from "../../core/grants.ts";
import type { AuthenticatedSession, RelyingApp } from "../../core/model.ts";
import { matchesExactly } from "../../core/redirect-gate.ts";
import { html, page } from "../../http/html.ts";
import { type OidcApp, type OidcDoorOptions, endpoint, providerSession } from "./door.ts";
import { OAuthParams } from "./params.ts";
import { Params } from "./wire.ts";
import { ROUTES } from "./routes.ts";

/** What /authorize and its resume answer: a redirect to the app or the sign-in page, or an error page. */
const AUTHORIZE_ANSWERS = {
  303: redirectAnswer("To the app's redirect_uri (code, state, iss; or an OAuth error), or to the sign-in page first"),
  400: htmlPage("An unknown client or an unregistered redirect_uri: a page, never a redirect"),
};
import { type OAuthErrorCode, invalidRequest, sendErrorPage } from "./wire-errors.ts";

/** The parameters this endpoint reads; any other is ignored (auth0-spa-js sends `auth0Client`). */
const KNOWN = [
  "client_id",
  "redirect_uri",
  "response_type",
  "response_mode",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
  "max_age",
  "request",
  "request_uri",
] as const;

const MAX_VALUE = 2048;
/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** A validated request, as it is held while the browser signs in. */
export interface AuthorizationParams {
  redirectUri: string;
  /** `web_message` only with `prompt=none`: it is answered in a frame, never held for a sign-in. */
  responseMode: ResponseMode;
  state: string | null;
  scope: string;
  nonce: string | null;
  codeChallenge: string | null;
  /** `max_age` in seconds (OpenID Connect Core 1.0 §3.1.2.1). */
  maxAge: number | null;
  /** `prompt=login`: a sign-in after this request, even when one is signed in. */
  freshSignIn: boolean;
  /** `prompt=none`: never show a page; `login_required` instead. */
  silent: boolean;
}

type Refusal = { error: OAuthErrorCode; description: string };
type ResponseMode = "query" | "form_post" | "web_message";
const RESPONSE_MODES: readonly string[] = ["query", "form_post", "web_message"] satisfies ResponseMode[];

export function authorizeRoutes(app: OidcApp, door: OidcDoorOptions): void {
  const { core } = door;

  /** Answers at the app's redirect URI: the code or an error, with `state` and `iss` (RFC 9207). */
  function answer(reply: FastifyReply, params: Pick<AuthorizationParams, "redirectUri" | "responseMode" | "state">, values: Record<string, string>) {
    const all: Record<string, string> = { ...values, ...(params.state !== null ? { state: params.state } : {}), iss: door.issuer };
    if (params.responseMode === "form_post") return formPost(reply, params.redirectUri, all);
    if (params.responseMode === "web_message") return webMessage(reply, params.redirectUri, all);
    // RFC 6749 §3.1.2: the redirect URI's own query is kept; ours is appended.
    const location = params.redirectUri + (params.redirectUri.includes("?") ? "&" : "?") + new URLSearchParams(all).toString();
    return reply.code(303).header("location", location).send();
  }

  function refuse(reply: FastifyReply, params: Pick<AuthorizationParams, "redirectUri" | "responseMode" | "state">, refusal: Refusal) {
    return answer(reply, params, { error: refusal.error, error_description: refusal.description });
  }

  /** Validates a request; a refusal before the redirect URI is known is a page, after it an error redirect. */
  async function authorize(request: FastifyRequest, reply: FastifyReply, raw: unknown): Promise<FastifyReply> {
    const p = new OAuthParams(raw);
    for (const name of ["client_id", "redirect_uri"] as const) {
      if (p.duplicated([name]).length > 0) return sendErrorPage(reply, invalidRequest(`The ${name} parameter is repeated.`));
    }
    const clientId = p.get("client_id");
    if (clientId === undefined) return sendErrorPage(reply, invalidRequest("The client_id parameter is missing."));
    const relying = await core.apps.find(clientId);
    if (!relying) return sendErrorPage(reply, { status: 400, error: "invalid_client", description: "The client_id names no app of this provider." });
    const redirectUri = p.get("redirect_uri");
    // OpenID Connect Core 1.0 §3.1.2.1: REQUIRED, and an exact match of a registered value.
    if (redirectUri === undefined || !matchesExactly(redirectUri, relying.redirectUris)) {
      return sendErrorPage(reply, invalidRequest("The redirect_uri is missing or is not registered for this app."));
    }
    const state = p.duplicated(["state"]).length > 0 ? null : (p.get("state") ?? null);
    const mode = p.get("response_mode");
    const responseMode: ResponseMode = mode !== undefined && RESPONSE_MODES.includes(mode) && p.duplicated(["response_mode"]).length === 0 ? (mode as ResponseMode) : "query";
    // Auth0: a web message goes only to an Allowed Web Origin, the one place that may frame the answer.
    if (responseMode === "web_message" && !relying.webOrigins.includes(new URL(redirectUri).origin)) {
      return sendErrorPage(reply, invalidRequest("response_mode=web_message needs the redirect_uri's origin among the app's web_origins."));
    }
    const target = { redirectUri, responseMode, state };
    const checked = validate(p, relying);
    if ("error" in checked) return refuse(reply, target, checked);
    return proceed(request, reply, relying, { ...target, ...checked });
  }

  function validate(p: OAuthParams, relying: RelyingApp): Omit<AuthorizationParams, "redirectUri" | "responseMode" | "state"> | Refusal {
    const bad = (description: string): Refusal => ({ error: "invalid_request", description });
    const repeated = p.duplicated(KNOWN);
    if (repeated.length > 0) return bad(`The ${repeated[0]} parameter is repeated.`);
    for (const name of KNOWN) if ((p.get(name)?.length ?? 0) > MAX_VALUE) return bad(`The ${name} parameter is too long.`);
    const mode = p.get("response_mode");
    if (mode !== undefined && !RESPONSE_MODES.includes(mode)) return bad("response_mode must be query, form_post or web_message.");
    if (p.has("request")) return { error: "request_not_supported", description: "Request objects are not supported." };
    if (p.has("request_uri")) return { error: "request_uri_not_supported", description: "request_uri is not supported." };
    if (p.get("response_type") !== "code") return { error: "unsupported_response_type", description: "Only response_type=code is supported." };
    const asked = (p.get("scope") ?? "").split(" ").filter((s) => s !== "");
    if (!asked.includes("openid")) return { error: "invalid_scope", description: "The scope must include openid." };
    // RFC 6749 §3.3: the granted scope may be narrower than the one asked for.
    const scope = SUPPORTED_SCOPES.filter((s) => asked.includes(s)).join(" ");
    const challenge = p.get("code_challenge") ?? null;
    const method = p.get("code_challenge_method");
    if (challenge === null) {
      if (method !== undefined) return bad("code_challenge_method without code_challenge.");
      // RFC 9700 §2.1.1: a public app cannot keep a secret; PKCE is what binds its code.
      if (relying.authMethod === "none") return bad("This app must use PKCE: send code_challenge and code_challenge_method=S256.");
    } else {
      // RFC 7636 §4.3 defaults an absent method to "plain", which this provider does not accept.
      if (method !== "S256") return bad("code_challenge_method must be S256.");
      if (!S256_CHALLENGE.test(challenge)) return bad("code_challenge is not an S256 challenge.");
    }
    const prompts = (p.get("prompt") ?? "").split(" ").filter((s) => s !== "");
    // OpenID Connect Core 1.0 §3.1.2.1: `none` with any other value is an error.
    if (prompts.includes("none") && prompts.length > 1) return bad("prompt=none cannot be combined with other values.");
    // The answer is posted from a hidden frame, where no sign-in page can be shown.
    if (mode === "web_message" && !prompts.includes("none")) return bad("response_mode=web_message is for prompt=none.");
    const maxAgeRaw = p.get("max_age");
    if (maxAgeRaw !== undefined && !/^[0-9]{1,10}$/.test(maxAgeRaw)) return bad("max_age must be a number of seconds.");
    return {
      scope,
      nonce: p.get("nonce") ?? null,
      codeChallenge: challenge,
      maxAge: maxAgeRaw === undefined ? null : Number(maxAgeRaw),
      freshSignIn: prompts.includes("login"),
      silent: prompts.includes("none"),
    };
  }

  /** Too old for `max_age`: the sign-in behind the session was more than `maxAge` seconds ago. */
  function tooOld(auth: AuthenticatedSession, maxAge: number | null): boolean {
    return maxAge !== null && core.clock.now().getTime() - auth.session.authenticatedAt.getTime() > maxAge * 1000;
  }

  async function proceed(request: FastifyRequest, reply: FastifyReply, relying: RelyingApp, params: AuthorizationParams): Promise<FastifyReply> {
    const auth = await providerSession(door, request);
    const signIn = auth === null || params.freshSignIn || tooOld(auth, params.maxAge);
    if (!signIn) return issue(reply, relying, auth, params);
    if (params.silent) return refuse(reply, params, { error: "login_required", description: "No one is signed in, or the sign-in is too old." });
    const held = await core.grants.holdRequest(relying.clientId, params);
    const resume = `${endpoint(door, ROUTES.resumeAuthorization)}?request=${held.id}`;
    // Signed in already: a re-authentication of the same person (Kratos `refresh=true`).
    const query = new URLSearchParams({ return_to: resume, ...(auth !== null ? { refresh: "true" } : {}) });
    return reply.code(303).header("location", `${door.signInUrl}?${query}`).send();
  }

  async function issue(reply: FastifyReply, relying: RelyingApp, auth: AuthenticatedSession, params: AuthorizationParams): Promise<FastifyReply> {
    const code = await core.grants.issueCode(relying, auth, {
      redirectUri: params.redirectUri,
      scope: params.scope,
      nonce: params.nonce,
      codeChallenge: params.codeChallenge,
    });
    if (code === null) return refuse(reply, params, { error: "login_required", description: "The session has ended." });
    return answer(reply, params, { code });
  }

  const schema = (operationId: string, summary: string) => ({
    operationId,
    tags: ["oidc"],
    summary,
    description:
      "OpenID Connect authorization code flow with PKCE S256. Redirects (303) to the app's redirect_uri with code, state and iss, or to the sign-in page first. An unknown client or an unregistered redirect_uri is a 400 page, never a redirect.",
    response: AUTHORIZE_ANSWERS,
  });

  app.get(ROUTES.authorize, { config: { page: true }, schema: { ...schema("authorize", "Start a sign-in for an app"), querystring: Params } }, (request, reply) =>
    authorize(request, reply, request.query),
  );
  app.post(ROUTES.authorize, { config: { page: true }, schema: { ...schema("authorizeByPost", "Start a sign-in for an app (form POST)"), body: Params } }, (request, reply) =>
    authorize(request, reply, request.body),
  );

  app.get(
    ROUTES.resumeAuthorization,
    {
      config: { page: true },
      schema: {
        operationId: "resumeAuthorization",
        tags: ["oidc"],
        summary: "Where the sign-in page returns a held authorization request",
        querystring: Type.Object({ request: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: true }),
        response: AUTHORIZE_ANSWERS,
      },
    },
    async (request, reply) => {
      const id = request.query.request ?? "";
      const held = /^[0-9a-f-]{36}$/.test(id) ? await core.grants.takeRequest(id) : null;
      if (!held) return sendErrorPage(reply, invalidRequest("This sign-in request has expired or was already used. Go back to the app and sign in again."));
      const relying = await core.apps.find(held.clientId);
      if (!relying) return sendErrorPage(reply, { status: 400, error: "invalid_client", description: "The app of this request no longer exists." });
      const params = held.params as AuthorizationParams;
      const auth = await providerSession(door, request);
      if (!auth) return refuse(reply, params, { error: "login_required", description: "No one signed in." });
      if ((params.freshSignIn && auth.session.authenticatedAt.getTime() < held.issuedAt.getTime()) || tooOld(auth, params.maxAge)) {
        return refuse(reply, params, { error: "login_required", description: "The sign-in was not renewed." });
      }
      return issue(reply, relying, auth, params);
    },
  );
}

/**
 * OAuth 2.0 Form Post Response Mode: a page whose one script submits the answer to the app. The
 * CSP allows that script by its hash and the form only towards the app's redirect URI.
 */
function formPost(reply: FastifyReply, redirectUri: string, values: Record<string, string>): FastifyReply {
  const script = "document.forms[0].submit();";
  const hash = createHash("sha256").update(script).digest("base64");
  const fields = Object.entries(values).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  const body = html`<form method="post" action="${redirectUri}">${fields}<noscript><p>JavaScript is off: continue by hand.</p><button type="submit">Continue to the app</button></noscript></form>
<script>${script}</script>`;
  return reply
    .code(200)
    .header(
      "content-security-policy",
      `default-src 'none'; style-src 'self'; script-src 'sha256-${hash}'; form-action ${new URL(redirectUri).origin}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .type("text/html; charset=utf-8")
    .send(page({ title: "Signing you in", body }));
}

/** Reads the answer from the page's data block and posts it to the parent frame, to that one origin only. */
const WEB_MESSAGE_SCRIPT =
  "var d=JSON.parse(document.getElementById('authorization-response').textContent);window.parent.postMessage({type:'authorization_response',response:d.response},d.origin);";
const WEB_MESSAGE_HASH = createHash("sha256").update(WEB_MESSAGE_SCRIPT).digest("base64");

/**
 * Auth0's web_message response mode (what auth0-spa-js's `getTokenSilently` and `checkSession`
 * use without refresh tokens): the answer is a page, framed by the app, that posts
 * `{type: "authorization_response", response}` to its parent with the redirect URI's origin as the
 * target, so only a window of that origin can read it. Only that origin may frame the page; its one
 * script is allowed by hash, and the answer rides in a JSON data block (not executed) with `<`
 * escaped, so no value can close the block.
 */
function webMessage(reply: FastifyReply, redirectUri: string, values: Record<string, string>): FastifyReply {
  const origin = new URL(redirectUri).origin;
  const data = JSON.stringify({ origin, response: values }).replace(/</g, "\\u003c");
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Curfew</title></head><body><script type="application/json" id="authorization-response">${data}</script><script>${WEB_MESSAGE_SCRIPT}</script></body></html>`;
  // The one page that may be framed, and only by that origin (CSP frame-ancestors replaces X-Frame-Options).
  reply.removeHeader("x-frame-options");
  return reply
    .code(200)
    .header("content-security-policy", `default-src 'none'; script-src 'sha256-${WEB_MESSAGE_HASH}'; form-action 'none'; frame-ancestors ${origin}; base-uri 'none'`)
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(body);
}
