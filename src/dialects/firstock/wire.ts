/**
 * The Firstock V4 wire (Firstock's V4 API documentation): request bodies as TypeBox schemas and
 * the success envelope `{"status":"success","data":…}`. Key order is the vendor's. No JSON true,
 * false or null anywhere: Firstock's official Python SDK reads answers with `ast.literal_eval`,
 * which knows neither. The failure envelope is in wire-errors.ts.
 */
import type { FastifyReply } from "fastify";
import { Type } from "typebox";

const text = (maxLength: number, minLength = 0) => Type.String({ maxLength, minLength });

export const LoginBody = Type.Object(
  {
    userId: text(320, 1),
    password: Type.String({ maxLength: 256, description: "Lowercase hex SHA-256 of the password (D11)." }),
    TOTP: Type.String({ maxLength: 16, description: "Accepted and ignored until Curfew has second factors." }),
    vendorCode: text(128, 1),
    apiKey: text(256, 1),
  },
  { additionalProperties: false },
);

/** `logout` and `userDetails`: the user and the jKey (a Curfew session token, D1), in the body (SEC-50). */
export const TokenBody = Type.Object({ userId: text(320, 1), jKey: text(256) }, { additionalProperties: false });

const Failure = Type.Object({
  status: Type.Literal("failed"),
  code: Type.String(),
  name: Type.String(),
  error: Type.Object({ field: Type.String(), message: Type.String() }),
});

/** Responses are written as exact strings (sendSuccess, sendFailure); these schemas document them. */
export const responses = (success: Type.TSchema) => ({ 200: success, 400: Failure, 401: Failure, 413: Failure, 415: Failure, 429: Failure, 503: Failure });

export function sendSuccess(reply: FastifyReply, data: string | Record<string, string | string[]>): FastifyReply {
  return reply.code(200).type("application/json; charset=utf-8").send(JSON.stringify({ status: "success", data }));
}

/** `HH:MM:SS DD-MM-YYYY`, as Firstock writes userDetails' requestTime. */
export function requestTime(now: Date, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(now)
      .map((x) => [x.type, x.value]),
  );
  return `${p.hour}:${p.minute}:${p.second} ${p.day}-${p.month}-${p.year}`;
}
