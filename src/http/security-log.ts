/**
 * The security log: one pino line per security event, at `info` (successes) or `warn`
 * (refusals), so the default level shows them all (docs/adr/0024-metrics-and-logs.md).
 *
 * A line names the event, the door and, where one is known, the identity id; never the identifier
 * that was typed, a password, a token, a cookie or a CSRF value (SEC-06). An identifier typed at a
 * sign-in is often a password typed in the wrong field, and an unknown one says nothing an operator
 * needs; the identity id of a known account is what an operator looks up.
 */
import type { FastifyBaseLogger, FastifyRequest } from "fastify";
import type { Actor, CoreEvent, LogoutOutcome, RevocationReason } from "../core/index.ts";
import type { DoorLabel, LogoutChannel } from "./metrics.ts";

/** Who asked for a logout, as a closed set (metrics label and log field). */
export function logoutChannel(by: Actor): LogoutChannel {
  if (by.door !== null) return by.door;
  return by.actor === "cli" || by.actor === "system" ? by.actor : "admin";
}

/** The core's sign-in and lockout events as log lines; validations are counted, not logged. */
export function logCoreEvent(log: FastifyBaseLogger, event: CoreEvent): void {
  switch (event.type) {
    case "signin": {
      const line = { event: `signin.${event.outcome === "ok" ? "succeeded" : event.outcome === "throttled" ? "throttled" : "failed"}`, door: event.door, identity_id: event.identityId };
      if (event.outcome === "ok") log.info(line, "sign-in succeeded");
      else log.warn(line, event.outcome === "throttled" ? "sign-in refused by the login throttle" : "sign-in failed");
      return;
    }
    case "lockout":
      log.warn({ event: "signin.locked", door: event.door, identity_id: event.identityId, retry_after_seconds: event.retryAfterSeconds }, "account locked after failed sign-ins");
      return;
    case "validation":
      return;
  }
}

/** One line per committed logout that ended something; `sessions` > 1 is a revoke-all. */
export function logLogout(log: FastifyBaseLogger, outcome: LogoutOutcome, reason: RevocationReason, by: Actor): void {
  if (outcome.ended.length === 0) return;
  const identities = [...new Set(outcome.ended.map((s) => s.identityId))];
  log.info(
    {
      event: outcome.ended.length > 1 ? "sessions.revoked" : "logout",
      channel: logoutChannel(by),
      reason,
      sessions: outcome.ended.length,
      session_ids: outcome.ended.length <= 20 ? outcome.ended.map((s) => s.id) : undefined,
      identity_ids: identities.length <= 20 ? identities : undefined,
    },
    outcome.ended.length > 1 ? "sessions revoked" : "session ended",
  );
}

export type Refusal = "csrf.refused" | "redirect.refused" | "admin.refused";

const MESSAGES: Record<Refusal, string> = {
  "csrf.refused": "state-changing request refused: not proven same-site (CSRF)",
  "redirect.refused": "redirect target refused by the redirect gate",
  "admin.refused": "admin call refused: no or wrong admin key, or not addressed to loopback",
};

/** A refusal of a request, logged on the request's logger (its line carries the request id). */
export function logRefusal(request: FastifyRequest, event: Refusal, door: DoorLabel): void {
  request.log.warn({ event, door, route: request.routeOptions.url ?? null }, MESSAGES[event]);
}
