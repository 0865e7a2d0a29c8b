/** What every Kratos handler needs: the core and the few settings of this door. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { DoorApp } from "../../http/app.ts";
import type { Core } from "../../core/index.ts";
import type { RedirectPolicy } from "../../core/redirect-gate.ts";
import type { Actor, AuthenticatedSession, Identity, Session } from "../../core/model.ts";
import type { Static } from "typebox";
import { sessionJson } from "./serialize.ts";
import type * as W from "./wire.ts";

export interface KratosDoorOptions {
  core: Core;
  /** Public base URL without a trailing slash. */
  baseUrl: string;
  redirect: RedirectPolicy;
  /** Origins whose pages may make cookie-authenticated state changes (our own). */
  ownOrigins: readonly string[];
  /** When set, every admin call needs `Authorization: Bearer <key>`. */
  adminKey: string | null;
  /** The built-in pages (D16), or where configuration points them. */
  ui: { login: string; registration: string; settings: string; error: string; loggedOut: string };
  /** Cookies carry `Secure` when the base URL is https (D2). */
  secureCookies: boolean;
  /**
   * Origins of the single sign-on apps' redirect URIs. A sign-in page's form that finishes an
   * authorization request ends there after two redirects, and Chromium applies the page's CSP
   * `form-action` to every redirect that follows a post, so the pages' CSP must name them. They
   * widen nothing else: the redirect gate does not know them. Asked at each sign-in page for the
   * flow's `return_to`, so only the app that page can end at is named (a header that grows with
   * every app could outgrow a proxy's buffer), and an app the admin API adds is reachable at once.
   */
  appOriginsFor: (returnTo: string | null) => Promise<readonly string[]>;
}

export type KratosApp = DoorApp;

export type { FastifyReply, FastifyRequest };

/** The actor of a logout the session's holder asked for through this door. */
export const SELF: Actor = { actor: "self", door: "kratos" };

export function sessionView(
  door: Pick<KratosDoorOptions, "baseUrl" | "core">,
  session: Session,
  identity: Identity | null,
  options: { admin: boolean; devices: boolean },
): Static<typeof W.Session> {
  return sessionJson(session, {
    baseUrl: door.baseUrl,
    admin: options.admin,
    active: door.core.sessions.isLive(session) && (identity === null || identity.state === "active"),
    identity,
    devices: options.devices,
  });
}

/** The caller's own session, fully expanded, as whoami and the self-service endpoints show it. */
export function ownSessionView(door: KratosDoorOptions, auth: AuthenticatedSession): Static<typeof W.Session> {
  return sessionView(door, auth.session, auth.identity, { admin: false, devices: true });
}

/** Kratos's pagination headers: `Link` (first, next) and `X-Total-Count`. */
export function paginate(
  reply: FastifyReply,
  door: KratosDoorOptions,
  path: string,
  pageSize: number,
  next: string | null,
  total?: number,
  /** Filters the other pages keep (the audit trail's); the page token alone does not carry them. */
  filters: Record<string, string | undefined> = {},
): void {
  const url = (token: string | null) => {
    const q = new URLSearchParams({ page_size: String(pageSize) });
    for (const [k, v] of Object.entries(filters)) if (v !== undefined) q.set(k, v);
    if (token) q.set("page_token", token);
    return `${door.baseUrl}${path}?${q.toString()}`;
  };
  const links = [`<${url(null)}>; rel="first"`];
  if (next) links.push(`<${url(next)}>; rel="next"`);
  reply.header("link", links.join(","));
  if (total !== undefined) reply.header("x-total-count", String(total));
}

/** `page_size` (or the legacy `per_page`), default 250, at most 1000, as ory/x's keyset paginator. */
export function pageSizeOf(query: { page_size?: string; per_page?: string }): number {
  const raw = query.page_size ?? query.per_page;
  const size = raw === undefined ? 0 : Number(raw);
  // As ory/x's paginator: zero means the default, and larger sizes are cut to the maximum.
  return size < 1 ? 250 : Math.min(size, 1000);
}
