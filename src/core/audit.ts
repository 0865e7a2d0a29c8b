/**
 * The audit trail's events: one builder per kind, so every writer (the core, the store inside the
 * revoking transaction) says the same thing the same way.
 */
import { asStoreFailure } from "./errors.ts";
import type { AuditEvent, AuditEventType, Door, Page, RevocationRecord, RevokedSession } from "./model.ts";
import type { AuditQuery, Clock, Store } from "./ports.ts";
import { newId } from "./ids.ts";

export interface AuditFields {
  identityId: string | null;
  sessionId?: string | null;
  door?: Door | null;
  reason?: string | null;
  actor: string;
  ipAddress?: string | null;
  userAgent?: string | null;
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
    ipAddress: fields.ipAddress ?? null,
    // As the session's device record: bounded, so a client cannot fill the trail with one header.
    userAgent: fields.userAgent?.slice(0, 512) ?? null,
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

/** The trail as operators read it (`GET /admin/audit`, `curfew audit list`), and its retention. */
export class AuditTrail {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  list(query: AuditQuery): Promise<Page<AuditEvent>> {
    return this.store.listAuditEvents(query).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }

  /** Deletes events older than `audit.retention`; answers how many. */
  purge(): Promise<number> {
    return this.store.purgeAuditEvents(new Date(this.clock.now().getTime() - this.retentionMs)).catch((e: unknown) => {
      throw asStoreFailure(e);
    });
  }
}
