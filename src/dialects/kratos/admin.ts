/**
 * The Kratos admin API for identities and sessions (Kratos `IdentityApi`; D6, D10).
 * Served on the admin listener only: loopback unless an admin key is configured.
 */
import jsonPatch from "fast-json-patch";
import { type Static, Type } from "typebox";
import { Value } from "typebox/value";
import { isCoreError } from "../../core/errors.ts";
import { isUuid } from "../../core/tokens.ts";
import type { Actor, Identity } from "../../core/model.ts";
import { type FastifyRequest, type KratosApp, type KratosDoorOptions, pageSizeOf, paginate, sessionView } from "./door.ts";
import { KratosWireError, sendKratosError } from "./wire-errors.ts";
import { ROUTES } from "./routes.ts";
import { identityJson } from "./serialize.ts";
import * as W from "./wire.ts";

const ADMIN: Actor = { actor: "admin", door: null };

const ERRORS = { 400: W.GenericError, 401: W.GenericError, 404: W.GenericError, 409: W.GenericError, 503: W.GenericError };

const PageQuery = {
  page_size: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
  per_page: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
  page_token: Type.Optional(Type.String({ maxLength: 512 })),
};

const Expand = Type.Optional(
  Type.Union([Type.String({ maxLength: 32 }), Type.Array(Type.String({ maxLength: 32 }), { maxItems: 4 })], {
    description: "`identity` and/or `devices` (case-insensitive), repeated.",
  }),
);
const Active = Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")]));

/** What a JSON Patch may touch: Kratos refuses `id`, timestamps and credentials. */
const PATCHABLE = /^\/(traits|state|metadata_public|metadata_admin)(\/|$)/;

const JsonPatch = Type.Array(
  Type.Object(
    {
      op: Type.Union(["add", "remove", "replace", "move", "copy", "test"].map((op) => Type.Literal(op))),
      path: Type.String({ maxLength: 256 }),
      from: Type.Optional(Type.String({ maxLength: 256 })),
      value: Type.Optional(Type.Unknown()),
    },
    { additionalProperties: false },
  ),
  { maxItems: 100, description: "RFC 6902 operations" },
);

const CreateIdentityBody = Type.Object(
  {
    schema_id: Type.String({ maxLength: 64 }),
    traits: Type.Object({}, { additionalProperties: true }),
    credentials: Type.Optional(
      Type.Object(
        {
          password: Type.Optional(
            Type.Object(
              { config: Type.Object({ password: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false }) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    state: Type.Optional(Type.Union([Type.Literal("active"), Type.Literal("inactive")])),
    metadata_public: Type.Optional(Type.Unknown()),
    metadata_admin: Type.Optional(Type.Unknown()),
    external_id: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

/** Kratos's updateIdentityBody: the whole identity, as at creation (its id is in the path). */
const UpdateIdentityBody = Type.Object(
  {
    schema_id: Type.String({ maxLength: 64 }),
    traits: Type.Object({}, { additionalProperties: true }),
    credentials: CreateIdentityBody.properties.credentials,
    state: Type.Optional(Type.Union([Type.Literal("active"), Type.Literal("inactive")])),
    metadata_public: Type.Optional(Type.Unknown()),
    metadata_admin: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

function badUuid(id: string): KratosWireError {
  return new KratosWireError({ code: 400, message: `invalid UUID: ${id.slice(0, 64)}` });
}

function requireUuid(id: string): string {
  if (!isUuid(id)) throw badUuid(id);
  return id;
}

function parseExpand(expand: string | string[] | undefined): { identity: boolean; devices: boolean } {
  const values = expand === undefined ? [] : Array.isArray(expand) ? expand : [expand];
  const out = { identity: false, devices: false };
  for (const v of values) {
    const k = v.toLowerCase();
    if (k !== "identity" && k !== "devices") throw new KratosWireError({ code: 400, message: `Could not parse expand option: ${v.slice(0, 32)}` });
    out[k] = true;
  }
  return out;
}

export function adminRoutes(app: KratosApp, door: KratosDoorOptions): void {
  const { core, baseUrl } = door;
  const identityView = (identity: Identity) => identityJson(identity, { baseUrl, admin: true });
  /** A session outlives its identity's deletion (revoked, row kept): show it without one. Store errors still propagate. */
  const identityOrNull = (id: string): Promise<Identity | null> =>
    core.identities.get(id).catch((error: unknown) => {
      if (isCoreError(error, "IDENTITY_NOT_FOUND")) return null;
      throw error;
    });

  app.post(
    ROUTES.createIdentity,
    {
      schema: {
        operationId: "createIdentity",
        tags: ["identity"],
        summary: "Create an identity",
        body: CreateIdentityBody,
        response: { 201: W.Identity, ...ERRORS },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.schema_id !== "default") {
        return sendKratosError(request, reply, { code: 400, reason: `Unknown identity schema "${body.schema_id.slice(0, 64)}".` });
      }
      const identity = await core.identities.create(
        {
          traits: body.traits,
          password: body.credentials?.password?.config.password,
          ...(body.state ? { state: body.state } : {}),
          metadataPublic: body.metadata_public ?? null,
          metadataAdmin: body.metadata_admin ?? null,
          externalId: body.external_id ?? null,
        },
        "admin",
      );
      return reply.code(201).send(identityView(identity));
    },
  );

  /** Kratos's updateIdentity and patchIdentity land here: what the operator asked, as a core change. */
  async function update(id: string, body: Static<typeof UpdateIdentityBody>) {
    if (body.schema_id !== "default") throw new KratosWireError({ code: 400, reason: `Unknown identity schema "${body.schema_id.slice(0, 64)}".` });
    const password = body.credentials?.password?.config.password;
    const { identity } = await core.identities.update(
      requireUuid(id),
      {
        traits: body.traits,
        ...(body.state ? { state: body.state } : {}),
        metadataPublic: body.metadata_public ?? null,
        metadataAdmin: body.metadata_admin ?? null,
        ...(password !== undefined ? { password } : {}),
      },
      ADMIN,
    );
    return identityView(identity);
  }

  app.put(
    ROUTES.updateIdentity,
    {
      schema: {
        operationId: "updateIdentity",
        tags: ["identity"],
        summary: "Replace an identity's traits, state and metadata; reset its password",
        description:
          "As Kratos: the whole identity is given. `state: inactive` ends every session of it and refuses its sign-in at every door; `credentials.password.config.password` resets the password and ends every session (ADR 0026).",
        params: Type.Object({ id: Type.String() }),
        body: UpdateIdentityBody,
        response: { 200: W.Identity, ...ERRORS },
      },
    },
    async (request, reply) => reply.send(await update(request.params.id, request.body)),
  );

  app.patch(
    ROUTES.patchIdentity,
    {
      schema: {
        operationId: "patchIdentity",
        tags: ["identity"],
        summary: "Change an identity with a JSON Patch (RFC 6902)",
        description:
          "Operations on `/traits`, `/state`, `/metadata_public` and `/metadata_admin`; as in Kratos, `id`, timestamps and credentials cannot be patched. A patch that fails, or touches anything else, changes nothing (400).",
        params: Type.Object({ id: Type.String() }),
        body: JsonPatch,
        response: { 200: W.Identity, ...ERRORS },
      },
    },
    async (request, reply) => {
      const current = identityView(await core.identities.get(requireUuid(request.params.id)));
      for (const op of request.body) {
        if (!PATCHABLE.test(op.path) || (op.from !== undefined && !PATCHABLE.test(op.from))) {
          throw new KratosWireError({ code: 400, reason: `The path ${op.path.slice(0, 64)} cannot be patched.` });
        }
      }
      const start = { schema_id: current.schema_id, traits: current.traits, state: current.state, metadata_public: current.metadata_public ?? null, metadata_admin: current.metadata_admin ?? null };
      let patched: unknown;
      try {
        // The whole patch or nothing (RFC 6902 §5), on a copy; prototype keys are refused.
        // Through JSON and back: a copy or move from an inherited property brings no function along.
        patched = JSON.parse(JSON.stringify(jsonPatch.applyPatch(structuredClone(start), request.body as jsonPatch.Operation[], true, false, true).newDocument));
      } catch (error) {
        throw new KratosWireError({ code: 400, reason: `The JSON Patch could not be applied: ${(error as Error).message.split("\n")[0]!.slice(0, 200)}` });
      }
      if (!Value.Check(UpdateIdentityBody, patched)) throw new KratosWireError({ code: 400, reason: "The patched identity is not valid." });
      return reply.send(await update(request.params.id, patched));
    },
  );

  app.get(
    ROUTES.listIdentities,
    {
      schema: {
        operationId: "listIdentities",
        tags: ["identity"],
        summary: "List identities",
        querystring: Type.Object({ ...PageQuery, credentials_identifier: Type.Optional(Type.String({ maxLength: 320 })) }),
        response: { 200: W.IdentityList, ...ERRORS },
      },
    },
    async (request, reply) => {
      const pageSize = pageSizeOf(request.query);
      const page = await core.identities.list({
        limit: pageSize,
        ...(request.query.credentials_identifier !== undefined ? { identifier: request.query.credentials_identifier } : {}),
        ...(request.query.page_token ? { cursor: request.query.page_token } : {}),
      });
      paginate(reply, door, ROUTES.listIdentities, pageSize, page.next);
      return reply.send(page.items.map(identityView));
    },
  );

  app.get(
    ROUTES.getIdentity,
    { schema: { operationId: "getIdentity", tags: ["identity"], summary: "Get an identity", params: W.UuidParam, response: { 200: W.Identity, ...ERRORS } } },
    async (request, reply) => reply.send(identityView(await core.identities.get(requireUuid(request.params.id)))),
  );

  app.delete(
    ROUTES.deleteIdentity,
    {
      schema: {
        operationId: "deleteIdentity",
        tags: ["identity"],
        summary: "Delete an identity, revoking all its sessions first",
        params: W.UuidParam,
        response: { 204: Type.Null(), ...ERRORS },
      },
    },
    async (request, reply) => {
      await core.identities.delete(requireUuid(request.params.id), ADMIN);
      return reply.code(204).send(null);
    },
  );

  app.get(
    ROUTES.listIdentitySessions,
    {
      schema: {
        operationId: "listIdentitySessions",
        tags: ["identity"],
        summary: "List an identity's sessions",
        params: W.UuidParam,
        querystring: Type.Object({ ...PageQuery, active: Active }),
        response: { 200: W.SessionList, ...ERRORS },
      },
    },
    async (request, reply) => {
      const identityId = requireUuid(request.params.id);
      const pageSize = pageSizeOf(request.query);
      const active = request.query.active === undefined ? undefined : request.query.active === "true";
      const filter = { identityId, ...(active !== undefined ? { active } : {}) };
      const page = await core.sessions.list({ ...filter, limit: pageSize, ...(request.query.page_token ? { cursor: request.query.page_token } : {}) });
      // An unknown identity lists as [], not 404, as in Kratos.
      const identity = page.items.length > 0 ? await identityOrNull(identityId) : null;
      paginate(reply, door, ROUTES.listIdentitySessions.replace(":id", identityId), pageSize, page.next, await core.sessions.count(filter));
      return reply.send(page.items.map((s) => sessionView(door, s, identity, { admin: true, devices: true })));
    },
  );

  app.delete(
    ROUTES.deleteIdentitySessions,
    {
      schema: {
        operationId: "deleteIdentitySessions",
        tags: ["identity"],
        summary: "Revoke all of an identity's sessions",
        description: "Revokes (D6: rows are kept, with the reason) rather than deleting as Kratos does. 404 for an unknown identity.",
        params: W.UuidParam,
        response: { 204: Type.Null(), ...ERRORS },
      },
    },
    async (request, reply) => {
      const identity = await core.identities.get(requireUuid(request.params.id));
      await core.logout({ kind: "identity", identityId: identity.id }, "revoked_by_admin", ADMIN);
      return reply.code(204).send(null);
    },
  );

  app.get(
    ROUTES.listSessions,
    {
      schema: {
        operationId: "listSessions",
        tags: ["identity"],
        summary: "List all sessions",
        querystring: Type.Object({ ...PageQuery, active: Active, expand: Expand }),
        response: { 200: W.SessionList, ...ERRORS },
      },
    },
    async (request, reply) => {
      const expand = parseExpand(request.query.expand);
      const pageSize = pageSizeOf(request.query);
      const active = request.query.active === undefined ? undefined : request.query.active === "true";
      const page = await core.sessions.list({
        limit: pageSize,
        ...(active !== undefined ? { active } : {}),
        ...(request.query.page_token ? { cursor: request.query.page_token } : {}),
      });
      paginate(reply, door, ROUTES.listSessions, pageSize, page.next);
      const identities = new Map<string, Identity | null>();
      if (expand.identity) {
        for (const s of page.items) {
          if (!identities.has(s.identityId)) identities.set(s.identityId, await identityOrNull(s.identityId));
        }
      }
      return reply.send(
        page.items.map((s) => sessionView(door, s, identities.get(s.identityId) ?? null, { admin: true, devices: expand.devices })),
      );
    },
  );

  app.get(
    ROUTES.getSession,
    {
      schema: {
        operationId: "getSession",
        tags: ["identity"],
        summary: "Get a session",
        params: W.UuidParam,
        querystring: Type.Object({ expand: Expand }),
        response: { 200: W.Session, ...ERRORS },
      },
    },
    async (request, reply) => {
      if (request.params.id === "whoami") return redirectToWhoami(request, reply);
      const expand = parseExpand(request.query.expand);
      const session = await core.sessions.get(requireUuid(request.params.id));
      const identity = expand.identity ? await identityOrNull(session.identityId) : null;
      return reply.send(sessionView(door, session, identity, { admin: true, devices: expand.devices }));
    },
  );

  app.delete(
    ROUTES.disableSession,
    {
      schema: {
        operationId: "disableSession",
        tags: ["identity"],
        summary: "Revoke a session",
        description: "204 also when the session had already ended (idempotent); 404 for an unknown id.",
        params: W.UuidParam,
        response: { 204: Type.Null(), ...ERRORS },
      },
    },
    async (request, reply) => {
      const session = await core.sessions.get(requireUuid(request.params.id));
      await core.logout({ kind: "session", sessionId: session.id }, "revoked_by_admin", ADMIN);
      return reply.code(204).send(null);
    },
  );

  app.patch(
    ROUTES.extendSession,
    {
      schema: {
        operationId: "extendSession",
        tags: ["identity"],
        summary: "Extend a live session",
        description: "Sets the expiry to now + lifespan. A revoked or expired session answers 404 and stays ended (D6; Kratos would revive an expired one).",
        params: W.UuidParam,
        response: { 200: W.Session, ...ERRORS },
      },
    },
    async (request, reply) => {
      const session = await core.sessions.extend(requireUuid(request.params.id));
      const identity = await identityOrNull(session.identityId);
      return reply.send(sessionView(door, session, identity, { admin: true, devices: true }));
    },
  );

  function redirectToWhoami(_request: FastifyRequest, reply: import("fastify").FastifyReply) {
    // Self-service routes live on the public port, as in Kratos.
    return reply.code(307).header("location", `${baseUrl}${ROUTES.toSession}`).send();
  }
}
