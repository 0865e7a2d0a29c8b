/**
 * The closed union of everything the core can refuse, and only that: what a door refuses on its
 * own (a CSRF check, a logout token, its wire's bad input) is the door's to say. Every door maps every code
 * (`satisfies Record<CoreErrorCode, …>`), so adding a code here fails to compile until
 * each door has decided how to say it on its wire (house rule 6).
 */
export type CoreErrorCode =
  | "CREDENTIALS_INVALID"
  | "RATE_LIMITED"
  | "IDENTIFIER_TAKEN"
  | "TRAITS_INVALID"
  | "PASSWORD_REJECTED"
  | "IDENTITY_NOT_FOUND"
  | "SESSION_MISSING"
  | "SESSION_INACTIVE"
  | "SESSION_NOT_FOUND"
  | "RETURN_TO_INVALID"
  | "RETURN_TO_NOT_ALLOWED"
  | "FLOW_NOT_FOUND"
  | "FLOW_EXPIRED"
  | "REGISTRATION_DISABLED"
  /** A privileged change (a new password) on a session whose sign-in is older than the window (Kratos `session_refresh_required`). */
  | "SESSION_REFRESH_REQUIRED"
  | "STORE_UNAVAILABLE";

export interface CoreErrorDetails {
  /** Seconds until a rate-limited caller may try again (RATE_LIMITED). */
  retryAfterSeconds?: number;
  /** The request field the error is about, when there is one (TRAITS_INVALID, PASSWORD_REJECTED). */
  field?: string;
  /** The refused redirect target, already known to the caller (RETURN_TO_NOT_ALLOWED). */
  target?: string;
  /** When an expired thing expired (FLOW_EXPIRED). */
  expiredAt?: Date;
}

export class CoreError extends Error {
  override readonly name = "CoreError";
  constructor(
    readonly code: CoreErrorCode,
    message: string,
    readonly details: CoreErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCoreError(value: unknown, code?: CoreErrorCode): value is CoreError {
  return value instanceof CoreError && (code === undefined || value.code === code);
}

/**
 * A store that cannot answer is never a success (INV-1, INV-3): anything thrown by a port
 * that is not already a CoreError becomes STORE_UNAVAILABLE, keeping the cause for the log.
 */
export function asStoreFailure(cause: unknown): CoreError {
  if (cause instanceof CoreError) return cause;
  return new CoreError("STORE_UNAVAILABLE", "The session store did not answer.", {}, { cause });
}

/** `asStoreFailure` as a `.catch` handler: `store.write(…).catch(throwAsStoreFailure)`. */
export function throwAsStoreFailure(cause: unknown): never {
  throw asStoreFailure(cause);
}

/** Anything but a live session where one is needed: the one answer for unknown, wrong, ended or idle. */
export function sessionInactive(): CoreError {
  return new CoreError("SESSION_INACTIVE", "No active session was found in this request.");
}
