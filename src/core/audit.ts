/**
 * The audit trail's events: one builder per kind, so every writer (the core, the store inside the
 * revoking transaction) says the same thing the same way.
 */
import type { AuditEvent, AuditEventType, Door, RevocationRecord, RevokedSession } from "./model.ts";
import { newId } from "./ids.ts";

export interface AuditFields {
  identityId: string;
  sessionId?: string | null;
  door?: Door | null;
  reason?: string | null;
  actor: string;
}

export function auditEvent(type: AuditEventType, at: Date, fields: AuditFields): AuditEvent {
  return {
    id: newId(),
    at,
    type,
    identityId: fields.identityId,
    sessionId: fields.sessionId ?? null,
    door: fields.door ?? null,
    reason: fields.reason ?? null,
    actor: fields.actor,
  };
}

/**
 * `session.ended` for one session a revocation ended. The door is the one the end came through, not
 * the one the session began at (that is on its `session.begun`): null for the admin API and the CLI.
 */
export function sessionEndedEvent(record: RevocationRecord, session: RevokedSession): AuditEvent {
  return auditEvent("session.ended", record.at, {
    identityId: session.identityId,
    sessionId: session.id,
    door: record.by.door,
    reason: record.reason,
    actor: record.by.actor,
  });
}

/** `identity.deleted`, written after the identity's sessions have ended (D6). */
export function identityDeletedEvent(record: RevocationRecord, identityId: string): AuditEvent {
  return auditEvent("identity.deleted", record.at, { identityId, actor: record.by.actor });
}
