/** What the core needs to know from the configuration, already parsed into plain values. */
import type { DailyCutoff } from "./daily-cutoff.ts";
import type { Door } from "./model.ts";
import type { RequestLimitSettings } from "./request-limits.ts";

export interface SessionPolicy {
  /** Sessions also end at this time of day (D5: Firstock, daily). */
  dailyCutoff?: DailyCutoff;
  /** Absolute lifetime from sign-in (D5; ASVS 5.0 7.3.2). */
  lifespanMs: number;
  /** Inactivity after which the session is over (D5; ASVS 5.0 7.3.1). */
  idleTimeoutMs: number;
}

export interface ThrottleSettings {
  /** Failed sign-ins per identifier per window before 429 (SEC-60). */
  perIdentifier: { max: number; windowMs: number };
  /** Sign-in attempts per client IP per window before 429 (SEC-61). */
  perIp: { max: number; windowMs: number };
}

export interface CoreSettings {
  /** The server secret (D3): keys the session-bound proofs (core/proofs.ts; D4, D12). */
  secret: string;
  sessions: Record<Door, SessionPolicy>;
  /** How long ended sessions stay (revoked, with their reason) before the purge job deletes them. */
  purgeAfterMs: number;
  /** How long audit events stay before the purge job deletes them (`audit.retention`). */
  auditRetentionMs: number;
  flows: {
    lifespanMs: Record<"login" | "registration" | "settings", number>;
    registrationEnabled: boolean;
    /** Kratos `privileged_session_max_age`: a password change needs a sign-in at most this old. */
    privilegedSessionMaxAgeMs: number;
    /** Whether a password change ends every other session of the identity (default on). */
    revokeOtherSessionsOnPasswordChange: boolean;
  };
  throttle: ThrottleSettings;
  /** Per-IP limits on unauthenticated writes (SEC-101). */
  requestLimits: RequestLimitSettings;
}
