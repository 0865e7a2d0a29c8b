/**
 * The built-in pages (D16): sign-in, registration, error, signed-out, and the home page with
 * the signed-in person's sessions. Plain server-rendered HTML with one stylesheet, no scripts,
 * usable without JavaScript and with a keyboard. They are the Kratos door's default `ui_url`s,
 * so they live in that door: they render its own flow JSON (`ui.nodes` and messages), post to
 * its endpoints, and sign out through its logout URL.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { isCoreError } from "../../../core/errors.ts";
import type { AuthenticatedSession, Flow, FlowType, Session } from "../../../core/model.ts";
import { type Html, contentSecurityPolicy, html, page } from "../../../http/html.ts";
import { isCrossSite } from "../../../http/same-site.ts";
import { logRefusal } from "../../../http/security-log.ts";
import { BrowserCookies } from "../browser.ts";
import { presentedToken } from "../credentials.ts";
import { type KratosApp, type KratosDoorOptions, SELF } from "../door.ts";
import { type FlowView, flowJson } from "../flow-json.ts";
import { logoutTokenOf } from "../logout.ts";
import { ROUTES } from "../routes.ts";
import { NEW_PASSWORD_RULE, describeDevice, doorName, fieldLabel, localeOf, messageText, relativeTime } from "./for-people.ts";
import { STYLESHEET } from "./style.ts";

export const PAGES = {
  home: "/",
  login: "/ui/login",
  registration: "/ui/registration",
  settings: "/ui/settings",
  error: "/ui/error",
  loggedOut: "/ui/logged-out",
  revokeSession: "/ui/sessions/revoke",
  revokeOtherSessions: "/ui/sessions/revoke-others",
  stylesheet: "/ui/style.css",
  favicon: "/favicon.ico",
} as const;


interface Node {
  type: string;
  group: string;
  attributes: { name?: string; type?: string; value?: unknown; required?: boolean; autocomplete?: string };
  messages: { id: number; text: string; type: string }[];
  meta: { label?: { text: string } };
}

export async function webPages(app: KratosApp, door: KratosDoorOptions): Promise<void> {
  const { core, baseUrl } = door;
  const cookies = new BrowserCookies(door);
  const csp = contentSecurityPolicy(baseUrl, door.redirect);

  function send(reply: FastifyReply, title: string, body: Html, status = 200, policy = csp): FastifyReply {
    return reply
      .code(status)
      .header("content-security-policy", policy)
      .type("text/html; charset=utf-8")
      .send(page({ title, body }));
  }

  async function currentSession(request: FastifyRequest): Promise<AuthenticatedSession | null> {
    const token = presentedToken(request);
    if (!token || token.source !== "cookie") return null;
    return core.sessions.findLive(token.token);
  }

  // A page that cannot be served says so as a page; a store that does not answer is a 503 (INV-3).
  app.setErrorHandler(async (error, request, reply) => {
    const unavailable = isCoreError(error, "STORE_UNAVAILABLE");
    const status = unavailable ? 503 : (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, "page failed");
    if (unavailable) reply.header("retry-after", "1");
    const text = unavailable
      ? "The session store did not answer. Nothing was changed; please try again in a moment."
      : status < 500
        ? "This request could not be understood."
        : "Something went wrong on our side.";
    return send(reply, "Something went wrong", html`<ul class="messages"><li class="error">${text}</li></ul><p><a href="${baseUrl}/">Go to the start page</a></p>`, status < 400 ? 500 : status);
  });

  // ---- static ---------------------------------------------------------------------------

  app.get(PAGES.stylesheet, { schema: { hide: true } }, async (_request, reply) =>
    reply.type("text/css; charset=utf-8").send(STYLESHEET),
  );
  // Browsers ask for it on their own, also right after logout: it must never set a cookie.
  app.get(PAGES.favicon, { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());

  // ---- sign-in and registration ----------------------------------------------------------

  const initOf: Record<Exclude<FlowType, "settings">, string> = { login: ROUTES.createBrowserLoginFlow, registration: ROUTES.createBrowserRegistrationFlow };

  for (const type of ["login", "registration"] as const) {
    app.get(
      type === "login" ? PAGES.login : PAGES.registration,
      { schema: { hide: true, querystring: Type.Object({ flow: Type.Optional(Type.String({ maxLength: 64 })), return_to: Type.Optional(Type.String({ maxLength: 2048 })) }) } },
      async (request, reply) => {
        const q = request.query.return_to ? `?return_to=${encodeURIComponent(request.query.return_to)}` : "";
        const restart = () => reply.code(303).header("location", `${baseUrl}${initOf[type]}${q}`).send();
        if (!request.query.flow) return restart();
        let flow: Flow;
        try {
          flow = await core.flows.get(request.query.flow, type);
        } catch (error) {
          if (isCoreError(error, "FLOW_NOT_FOUND") || isCoreError(error, "FLOW_EXPIRED")) return restart();
          throw error;
        }
        if (flow.kind !== "browser") return restart();
        if (!cookies.csrfValid(request, flow.csrfToken ?? undefined)) {
          // A flow whose CSRF cookie this browser lacks could never be submitted. A browser that
          // holds another CSRF cookie (an old tab) starts afresh: the new flow is bound to the cookie
          // it holds. One that holds none (cookies blocked, a client that keeps none) would be sent
          // round again for ever, a new flow each time: stop and say why instead.
          if (cookies.csrfSecret(request) !== null) return restart();
          return send(
            reply,
            type === "login" ? "Sign in" : "Create an account",
            html`<ul class="messages"><li class="error">This page needs cookies, and your browser did not keep the one we set. Allow cookies for this site, then start again.</li></ul>
<p class="actions"><a href="${baseUrl}${initOf[type]}${q}">Start again</a></p>`,
          );
        }
        const json = flowJson(flow, baseUrl, (flow.view as FlowView | null) ?? {});
        const other =
          type === "login"
            ? html`<p class="muted">No account yet? <a href="${baseUrl}${ROUTES.createBrowserRegistrationFlow}">Create one</a>.</p>`
            : html`<p class="muted">Have an account? <a href="${baseUrl}${ROUTES.createBrowserLoginFlow}">Sign in</a>.</p>`;
        // The form's redirect chain may end at a single sign-on app (door.ts, appOrigins).
        return send(
          reply,
          type === "login" ? "Sign in" : "Create an account",
          html`${messages(json.ui.messages ?? [])}${form(json.ui.action, json.ui.nodes as Node[])}${other}`,
          200,
          contentSecurityPolicy(baseUrl, door.redirect, await door.appOriginsFor(flow.returnTo)),
        );
      },
    );
  }

  // ---- change password (the settings flow, docs/adr/0026-password-change.md) --------------

  app.get(
    PAGES.settings,
    { schema: { hide: true, querystring: Type.Object({ flow: Type.Optional(Type.String({ maxLength: 64 })) }) } },
    async (request, reply) => {
      const restart = () => reply.code(303).header("location", `${baseUrl}${ROUTES.createBrowserSettingsFlow}`).send();
      const current = await currentSession(request);
      if (!current || !request.query.flow) return restart();
      let flow: Flow;
      try {
        flow = await core.flows.get(request.query.flow, "settings");
      } catch (error) {
        if (isCoreError(error, "FLOW_NOT_FOUND") || isCoreError(error, "FLOW_EXPIRED")) return restart();
        throw error;
      }
      // Only this person's own browser flow, read with the CSRF cookie it was made for.
      if (flow.kind !== "browser" || flow.identityId !== current.identity.id || !cookies.csrfValid(request, flow.csrfToken ?? undefined)) return restart();
      const view = (flow.view as FlowView | null) ?? {};
      if (view.state === "success") {
        const signedOut = core.settings.flows.revokeOtherSessionsOnPasswordChange
          ? html`<p>Every other session of your account has been signed out, on every device and in every app. This one stays signed in.</p>`
          : "";
        return send(
          reply,
          "Password changed",
          html`<div role="status"><ul class="messages"><li class="success">Your password has been changed.</li></ul></div>${signedOut}
<p class="actions"><a href="${baseUrl}/">Back to your sessions</a></p>`,
        );
      }
      const json = flowJson(flow, baseUrl, view);
      const ending = core.settings.flows.revokeOtherSessionsOnPasswordChange
        ? html`<p>Changing it signs you out everywhere else: every other device and app where you are signed in.</p>`
        : "";
      return send(
        reply,
        "Change password",
        html`<p>Signed in as <strong>${current.identity.traits.email}</strong>.</p>${ending}${messages(json.ui.messages ?? [])}${form(json.ui.action, json.ui.nodes as Node[])}
<p class="muted"><a href="${baseUrl}/">Back to your sessions</a></p>`,
      );
    },
  );

  // ---- error and signed-out ----------------------------------------------------------------

  app.get(PAGES.error, { schema: { hide: true, querystring: Type.Object({ id: Type.Optional(Type.String({ maxLength: 64 })) }) } }, async (request, reply) => {
    let text = "Something went wrong, and we could not find the details.";
    let code = 0;
    if (request.query.id) {
      const stored = await core.flows.getError(request.query.id).catch((error: unknown) => {
        if (isCoreError(error, "FLOW_NOT_FOUND")) return null;
        throw error;
      });
      const e = stored?.error as { code?: number; reason?: string; message?: string } | undefined;
      if (e) {
        text = e.reason ?? e.message ?? text;
        code = e.code ?? 0;
      }
    }
    return send(
      reply,
      "Something went wrong",
      html`<ul class="messages"><li class="error">${text}</li></ul>
${code === 401 || code === 403 ? html`<p>If you meant to sign out, you may already be signed out.</p>` : ""}
<p><a href="${baseUrl}/">Go to the start page</a></p>`,
    );
  });

  app.get(PAGES.loggedOut, { schema: { hide: true } }, async (_request, reply) =>
    send(
      reply,
      "You are signed out",
      html`<p>Your session has ended on this device. Nobody can use it again, here or anywhere else.</p>
<p class="actions"><a href="${baseUrl}${ROUTES.createBrowserLoginFlow}">Sign in again</a></p>`,
    ),
  );

  // ---- home: who is signed in, and their sessions -----------------------------------------

  app.get(PAGES.home, { schema: { hide: true } }, async (request, reply) => {
    const current = await currentSession(request);
    if (!current) {
      return send(
        reply,
        "Welcome to Curfew",
        html`<p>You are not signed in.</p>
<p class="actions"><a href="${baseUrl}${ROUTES.createBrowserLoginFlow}">Sign in</a> <a href="${baseUrl}${ROUTES.createBrowserRegistrationFlow}">Create an account</a></p>`,
      );
    }
    const { items } = await core.sessions.list({ identityId: current.identity.id, active: true, limit: 100 });
    const csrf = core.proofs.mint("csrf", current.session.id);
    const others = items.filter((s) => s.id !== current.session.id);
    const who = current.identity.traits;
    return send(
      reply,
      "Your sessions",
      html`<p>Signed in as <strong>${who.email}</strong>${who.username ? html` (${who.username})` : ""}.</p>
<table>
<caption class="muted">Every device where you are signed in. Ending a session signs that device out at once.</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Signed in through</th><th scope="col">Last seen</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
<tbody>
${[current.session, ...others].map((s) => sessionRow(s, s.id === current.session.id, csrf, localeOf(request.headers["accept-language"])))}
</tbody>
</table>
<div class="actions">
${others.length > 0 ? html`<form method="post" action="${baseUrl}${PAGES.revokeOtherSessions}"><input type="hidden" name="csrf_token" value="${csrf}"><button type="submit" class="danger">End all other sessions</button></form>` : ""}
<form method="get" action="${baseUrl}${ROUTES.updateLogoutFlow}"><input type="hidden" name="token" value="${logoutTokenOf(core, current.session.id)}"><button type="submit">Sign out</button></form>
</div>
<p><a href="${baseUrl}${ROUTES.createBrowserSettingsFlow}">Change password</a></p>`,
    );
  });

  function sessionRow(s: Session, isCurrent: boolean, csrf: string, locale: string): Html {
    const now = core.clock.now();
    return html`<tr>
<td>${describeDevice(s.device.userAgent)}${isCurrent ? html` <strong>(this device)</strong>` : ""}<br><span class="muted">${s.device.ipAddress ?? ""}</span></td>
<td>${doorName(s.door, s.device.userAgent)}<br><span class="muted">signed in ${time(s.issuedAt, now, locale)}</span></td>
<td>${time(s.lastSeenAt, now, locale)}</td>
<td>${isCurrent ? "" : html`<form method="post" action="${baseUrl}${PAGES.revokeSession}"><input type="hidden" name="csrf_token" value="${csrf}"><input type="hidden" name="session_id" value="${s.id}"><button type="submit" class="secondary" aria-label="End the session on ${describeDevice(s.device.userAgent)}">End</button></form>`}</td>
</tr>`;
  }

  /**
   * Both forms change state, so both layers apply (house rule 9): the token bound to the
   * current session, and a same-site request.
   */
  async function guarded(
    request: FastifyRequest<{ Body: { csrf_token?: string; session_id?: string } }>,
    reply: FastifyReply,
    act: (current: AuthenticatedSession, body: { session_id?: string }) => Promise<unknown>,
  ): Promise<FastifyReply> {
    const current = await currentSession(request);
    if (!current) return reply.code(303).header("location", `${baseUrl}${ROUTES.createBrowserLoginFlow}`).send();
    const body = request.body ?? {};
    if (isCrossSite(request.headers, door.ownOrigins) || !core.proofs.verify("csrf", current.session.id, body.csrf_token)) {
      logRefusal(request, "csrf.refused", "kratos");
      return send(reply, "Not allowed", html`<ul class="messages"><li class="error">This request did not come from your sessions page, so nothing was changed.</li></ul><p><a href="${baseUrl}/">Back to your sessions</a></p>`, 403);
    }
    await act(current, body);
    return reply.code(303).header("location", `${baseUrl}/`).send();
  }

  const FormBody = Type.Object({ csrf_token: Type.Optional(Type.String({ maxLength: 128 })), session_id: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });

  app.post<{ Body: { csrf_token?: string; session_id?: string } }>(PAGES.revokeSession, { schema: { hide: true, body: FormBody } }, (request, reply) =>
    guarded(request, reply, async (current, body) => {
      // Ending this device's own session is what Sign out is for; ignore the request quietly.
      if (!body.session_id || body.session_id === current.session.id) return;
      await core.logout({ kind: "session", sessionId: body.session_id, ownerId: current.identity.id }, "revoked_by_user", SELF);
    }),
  );
  app.post<{ Body: { csrf_token?: string } }>(PAGES.revokeOtherSessions, { schema: { hide: true, body: FormBody } }, (request, reply) =>
    guarded(request, reply, (current) => core.logout({ kind: "others", of: current.session }, "revoked_by_user", SELF)),
  );
}

function messages(list: { id: number; text: string; type: string }[]): Html {
  if (list.length === 0) return html``;
  // The live region wraps the list: a role on the <ul> itself would take its list semantics away.
  return html`<div role="alert"><ul class="messages">${list.map((m) => html`<li class="${m.type}">${messageText(m.id, m.text)}</li>`)}</ul></div>`;
}

/** A time a person reads: relative ("5 minutes ago"), the exact instant on hover, one line always. */
function time(at: Date, now: Date, locale: string): Html {
  const { relative, exact } = relativeTime(at, now, locale);
  return html`<time datetime="${at.toISOString()}" title="${exact}">${relative}</time>`;
}

function form(action: string, nodes: Node[]): Html {
  const fields = nodes.map((node) => {
    const a = node.attributes;
    const value = typeof a.value === "string" ? a.value : "";
    if (a.type === "hidden") return html`<input type="hidden" name="${a.name}" value="${value}">`;
    if (a.type === "submit") return html`<button type="submit" name="${a.name}" value="${value}">${node.meta.label?.text ?? "Continue"}</button>`;
    const id = `field-${a.name}`;
    const errors = node.messages.filter((m) => m.type === "error");
    const isNew = a.type === "password" && a.autocomplete === "new-password";
    const described = [isNew ? `${id}-rule` : null, errors.length > 0 ? `${id}-error` : null].filter((x) => x !== null).join(" ");
    return html`<label for="${id}">${fieldLabel(a.name ?? "", a.autocomplete, node.meta.label?.text ?? a.name ?? "")}
<input id="${id}" name="${a.name}" type="${a.type}" value="${a.type === "password" ? "" : value}"${a.required ? html` required` : ""}${isNew ? html` minlength="${String(NEW_PASSWORD_RULE.minLength)}"` : ""}${a.autocomplete ? html` autocomplete="${a.autocomplete}"` : ""}${errors.length > 0 ? html` aria-invalid="true"` : ""}${described ? html` aria-describedby="${described}"` : ""}>
${isNew ? html`<span class="hint" id="${id}-rule">${NEW_PASSWORD_RULE.text}</span>` : ""}
${errors.length > 0 ? html`<span class="field-error" id="${id}-error">${errors.map((m) => messageText(m.id, m.text)).join(" ")}</span>` : ""}</label>`;
  });
  return html`<form class="stack" method="post" action="${action}">${fields}</form>`;
}
