/**
 * `GET /admin/audit`: the audit trail, newest first, in the admin API's snake_case and paging
 * (`page_size`, `page_token`, a `Link` header), as the other admin lists (docs/adr/0025-audit-trail.md).
 * Kratos has no such endpoint; Keycloak's admin events API is the nearest, and its filters (by
 * user, type, from/to) are the ones kept here.
 */
import { type Static, Type } from "typebox";
import type { AuditQuery } from "../../core/index.ts";
import { AUDIT_EVENT_TYPES, type AuditEvent, DOORS } from "../../core/model.ts";
import { isUuid } from "../../core/tokens.ts";
import { type KratosApp, type KratosDoorOptions, pageSizeOf, paginate } from "./door.ts";
import { ROUTES } from "./routes.ts";
import { KratosWireError } from "./wire-errors.ts";
import * as W from "./wire.ts";

export const AuditEventJson = Type.Object({
  id: Type.String({ format: "uuid" }),
  at: Type.String({ format: "date-time" }),
  type: Type.Enum(AUDIT_EVENT_TYPES),
  identity_id: Type.Union([Type.String({ format: "uuid" }), Type.Null()], { description: "Null for a failed sign-in that named no known account." }),
  session_id: Type.Union([Type.String({ format: "uuid" }), Type.Null()]),
  door: Type.Union([Type.Enum(DOORS), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], { description: "For session.ended: why (logout, revoked_by_user, revoked_by_admin, identity_deleted, expired)." }),
  actor: Type.String({ description: "self, admin, cli, system, or a door" }),
  ip_address: Type.Union([Type.String(), Type.Null()], { description: "The client of a sign-in attempt (signin.failed, signin.locked)." }),
  user_agent: Type.Union([Type.String(), Type.Null()]),
});

export function auditEventJson(e: AuditEvent): Static<typeof AuditEventJson> {
  return {
    id: e.id,
    at: e.at.toISOString(),
    type: e.type,
    identity_id: e.identityId,
    session_id: e.sessionId,
    door: e.door,
    reason: e.reason,
    actor: e.actor,
    ip_address: e.ipAddress,
    user_agent: e.userAgent,
  };
}

/** An RFC 3339 date-time with its offset (or a bare date, as UTC midnight); null for anything else. */
export function rfc3339(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(value);
  if (!m) return null;
  // `new Date` rolls 2026-02-31 over into March: the calendar date must exist as written.
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (day.getUTCMonth() !== Number(m[2]) - 1 || day.getUTCDate() !== Number(m[3])) return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** An instant of a `since` / `until` filter, or refused with 400 naming the parameter. */
function parseInstant(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = rfc3339(value);
  if (at === null) throw new KratosWireError({ code: 400, message: `${name} must be an RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z` });
  return at;
}

const AuditQueryString = Type.Object({
  identity_id: Type.Optional(Type.String({ maxLength: 64 })),
  session_id: Type.Optional(Type.String({ maxLength: 64 })),
  type: Type.Optional(Type.Enum(AUDIT_EVENT_TYPES)),
  door: Type.Optional(Type.Enum(DOORS)),
  since: Type.Optional(Type.String({ maxLength: 64, description: "RFC 3339; events at or after it" })),
  until: Type.Optional(Type.String({ maxLength: 64, description: "RFC 3339; events before it" })),
  page_size: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
  page_token: Type.Optional(Type.String({ maxLength: 512 })),
});

/** The filters of a request, checked: UUIDs are UUIDs, instants are instants. */
export function auditQueryOf(q: Static<typeof AuditQueryString>, limit: number): AuditQuery {
  for (const [name, id] of [
    ["identity_id", q.identity_id],
    ["session_id", q.session_id],
  ] as const) {
    if (id !== undefined && !isUuid(id)) throw new KratosWireError({ code: 400, message: `${name}: invalid UUID: ${id.slice(0, 64)}` });
  }
  const since = parseInstant("since", q.since);
  const until = parseInstant("until", q.until);
  return {
    limit,
    ...(q.identity_id !== undefined ? { identityId: q.identity_id } : {}),
    ...(q.session_id !== undefined ? { sessionId: q.session_id } : {}),
    ...(q.type !== undefined ? { type: q.type } : {}),
    ...(q.door !== undefined ? { door: q.door } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(q.page_token ? { cursor: q.page_token } : {}),
  };
}

export function auditRoutes(app: KratosApp, door: KratosDoorOptions): void {
  app.get(
    ROUTES.listAuditEvents,
    {
      schema: {
        operationId: "listAuditEvents",
        tags: ["audit"],
        summary: "List audit events, newest first",
        description:
          "Sign-ins begun, failed and locked out, sessions ended (with their reason and who asked), identities created and deleted. Kept for `audit.retention` (default 90 days).",
        querystring: AuditQueryString,
        response: { 200: Type.Array(AuditEventJson), 400: W.GenericError, 401: W.GenericError, 403: W.GenericError, 503: W.GenericError },
      },
    },
    async (request, reply) => {
      const pageSize = pageSizeOf(request.query);
      const page = await door.core.audit.list(auditQueryOf(request.query, pageSize));
      const { page_size: _size, page_token: _token, ...filters } = request.query;
      paginate(reply, door, ROUTES.listAuditEvents, pageSize, page.next, undefined, filters);
      return reply.send(page.items.map(auditEventJson));
    },
  );
}
