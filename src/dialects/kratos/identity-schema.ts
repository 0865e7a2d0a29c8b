/**
 * The identity schema, served where Kratos serves it (D9): `/schemas/default` and
 * `/schemas/ZGVmYXVsdA` (base64url of the id), and listed at `/schemas`.
 */
import * as W from "./wire.ts";
import { Type } from "typebox";
import type { KratosApp } from "./door.ts";
import { sendKratosError } from "./wire-errors.ts";
import { ROUTES } from "./routes.ts";
import { SCHEMA_PATH } from "./serialize.ts";

export const IDENTITY_SCHEMA = {
  $id: "https://curfew.invalid/schemas/default.schema.json",
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Person",
  type: "object",
  properties: {
    traits: {
      type: "object",
      properties: {
        email: {
          type: "string",
          format: "email",
          title: "E-Mail",
          maxLength: 320,
          "ory.sh/kratos": { credentials: { password: { identifier: true } }, verification: { via: "email" }, recovery: { via: "email" } },
        },
        username: {
          type: "string",
          title: "Username",
          pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
          "ory.sh/kratos": { credentials: { password: { identifier: true } } },
        },
      },
      required: ["email"],
      additionalProperties: false,
    },
  },
} as const;

/** A JSON Schema document, as the OpenAPI document describes it (its keys are the schema's own). */
const JsonSchemaDocument = Type.Object({}, { additionalProperties: true, description: "The identity schema (JSON Schema draft 7, with Kratos's ory.sh/kratos extension)" });

export function schemaRoutes(app: KratosApp): void {
  app.get(
    ROUTES.listIdentitySchemas,
    {
      schema: {
        operationId: "listIdentitySchemas",
        tags: ["identity"],
        summary: "List identity schemas",
        response: { 200: Type.Array(Type.Object({ id: Type.String(), schema: JsonSchemaDocument })) },
      },
    },
    async (_request, reply) => reply.send([{ id: "default", schema: IDENTITY_SCHEMA }]),
  );
  app.get(
    ROUTES.identitySchema,
    {
      schema: {
        operationId: "getIdentitySchema",
        tags: ["identity"],
        summary: "Get the identity schema",
        params: Type.Object({ id: Type.String() }),
        response: { 200: JsonSchemaDocument, 404: W.GenericError },
      },
    },
    async (request, reply) => {
      if (request.params.id !== "default" && `/schemas/${request.params.id}` !== SCHEMA_PATH) {
        return sendKratosError(request, reply, { code: 404, message: "The requested resource could not be found" });
      }
      return reply.send(IDENTITY_SCHEMA);
    },
  );
}
