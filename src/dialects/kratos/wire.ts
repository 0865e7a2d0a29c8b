/**
 * The Kratos wire shapes (ory/kratos spec/api.json) as
 * TypeBox schemas: one definition gives validation, serialisation and the OpenAPI document.
 */
import { type Static, Type } from "typebox";

const DateTime = Type.String({ format: "date-time" });
const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const UiText = Type.Object({
  id: Type.Integer(),
  text: Type.String(),
  type: Type.Union([Type.Literal("info"), Type.Literal("error"), Type.Literal("success")]),
  context: Type.Optional(Type.Object({}, { additionalProperties: true })),
});

export const UiNode = Type.Object({
  type: Type.String(),
  group: Type.String(),
  attributes: Type.Object({}, { additionalProperties: true }),
  messages: Type.Array(UiText),
  meta: Type.Object({}, { additionalProperties: true }),
});

export const Flow = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    type: Type.Union([Type.Literal("api"), Type.Literal("browser")]),
    expires_at: DateTime,
    issued_at: DateTime,
    request_url: Type.String(),
    return_to: Type.Optional(Type.String()),
    ui: Type.Object({
      action: Type.String(),
      method: Type.String(),
      nodes: Type.Array(UiNode),
      messages: Type.Optional(Type.Array(UiText)),
    }),
    created_at: DateTime,
    updated_at: DateTime,
    refresh: Type.Optional(Type.Boolean()),
    requested_aal: Type.Optional(Type.String()),
    state: Type.String(),
  },
  { description: "A login or registration flow." },
);

/**
 * No `format: "email"` here: this schema only serialises, and the response serialiser checks
 * formats inside unions (`identity` is nullable). An address the core accepts (D9) but Ajv's
 * stricter format refuses (`ü@example.com`) would turn a committed sign-in into a 500.
 */
export const Traits = Type.Object(
  { email: Type.String({ description: "An email address (validated by the identity schema, D9)." }), username: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

const VerifiableAddress = Type.Object({
  id: Type.String(),
  value: Type.String(),
  verified: Type.Boolean(),
  via: Type.String(),
  status: Type.String(),
  created_at: DateTime,
  updated_at: DateTime,
});

const RecoveryAddress = Type.Object({
  id: Type.String(),
  value: Type.String(),
  via: Type.String(),
  created_at: DateTime,
  updated_at: DateTime,
});

export const Identity = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    schema_id: Type.String(),
    schema_url: Type.String(),
    state: Type.Union([Type.Literal("active"), Type.Literal("inactive")]),
    state_changed_at: DateTime,
    traits: Traits,
    verifiable_addresses: Type.Array(VerifiableAddress),
    recovery_addresses: Type.Array(RecoveryAddress),
    metadata_public: Type.Unknown(),
    metadata_admin: Type.Optional(Type.Unknown()),
    external_id: Type.Optional(Type.String()),
    credentials: Type.Optional(Type.Unknown()),
    organization_id: Nullable(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { description: "An identity. Public endpoints never include credentials or metadata_admin." },
);

export const Device = Type.Object({
  id: Type.String(),
  ip_address: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  location: Type.String(),
});

export const Session = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    active: Type.Boolean(),
    expires_at: DateTime,
    authenticated_at: DateTime,
    authenticator_assurance_level: Type.String(),
    authentication_methods: Type.Array(
      Type.Object({ method: Type.String(), aal: Type.String(), completed_at: DateTime }),
    ),
    issued_at: DateTime,
    // `nullable` rather than a union: the response serialiser then writes the identity without
    // first validating it to pick a union branch (a measured 7% of a whoami).
    identity: Type.Unsafe<Static<typeof Identity> | null>({ ...Identity, nullable: true }),
    devices: Type.Array(Device),
    door: Type.Union([Type.Literal("kratos"), Type.Literal("oidc"), Type.Literal("firstock"), Type.Literal("assets")], {
      description: "The door the session was begun through (Curfew extension, D7; SDKs ignore it).",
    }),
  },
  { description: "A session." },
);

export const GenericError = Type.Object(
  {
    error: Type.Object({
      id: Type.Optional(Type.String()),
      code: Type.Integer(),
      status: Type.String(),
      request: Type.Optional(Type.String()),
      reason: Type.Optional(Type.String()),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
      message: Type.String(),
    }),
  },
  { additionalProperties: true, description: "The herodot error envelope." },
);

export const SessionList = Type.Array(Session);
export const IdentityList = Type.Array(Identity);

export const SuccessfulNativeLogin = Type.Object({
  session_token: Type.Optional(Type.String()),
  session: Session,
  continue_with: Nullable(Type.Array(Type.Unknown())),
});

export const SuccessfulNativeRegistration = Type.Object({
  session_token: Type.Optional(Type.String()),
  session: Type.Optional(Session),
  identity: Identity,
  continue_with: Nullable(Type.Array(Type.Unknown())),
});

export const Health = Type.Object({ status: Type.String() });

export const UuidParam = Type.Object({ id: Type.String({ description: "A UUID." }) });

/** Pagination query (keyset `page_token`/`page_size`, and the legacy `page`/`per_page`). */
export const PageQuery = {
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  page_token: Type.Optional(Type.String({ maxLength: 512 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  page: Type.Optional(Type.Integer({ minimum: 0 })),
};
