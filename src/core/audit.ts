import { randomUUID } from "node:crypto";
import type { AuditEvent, AuditEventType, Door } from "./model.ts";

export interface AuditFields {
  identityId: string;
  sessionId?: string | null;
  door?: Door | null;
  reason?: string | null;
  actor: string;
}

export function auditEvent(type: AuditEventType, at: Date, fields: AuditFields): AuditEvent {
  return {
    id: randomUUID(),
    at,
    type,
    identityId: fields.identityId,
    sessionId: fields.sessionId ?? null,
    door: fields.door ?? null,
    reason: fields.reason ?? null,
    actor: fields.actor,
  };
}
