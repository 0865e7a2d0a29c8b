/**
 * The configuration schema: every key, its type, its default and its documentation, once
 * (D17). YAML keys are snake_case and nested; each also has an environment override
 * `CURFEW_` + upper-cased path with `__` between levels (see load.ts for the short aliases).
 * docs/configuration.md is generated from this file (`curfew config reference`), and a test
 * keeps the two equal.
 */
import { type Static, Type } from "typebox";

const Duration = (def: string, description: string) =>
  Type.String({ default: def, pattern: "^([0-9]+(ms|s|m|h|d))+$", description });


/** A URL of a page; a path is taken relative to the public base URL. */
const UiUrl = (path: string, description: string) =>
  Type.String({ default: "", description: `${description} Unset: the base URL + \`${path}\`; a path is relative to the base URL.` });

const Port = (def: number, description: string) => Type.Integer({ minimum: 0, maximum: 65535, default: def, description });

const Obj = <T extends Type.TProperties>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, default: {}, ...(description ? { description } : {}) });

const DURATION = "^([0-9]+(ms|s|m|h|d))+$";

/** A fixed window of requests per client IP (core/request-limits.ts). */
const PerIpLimit = (max: number, description: string) =>
  Obj({ max: Type.Integer({ minimum: 1, default: max, description }), window: Duration("15m", "Its window.") })
const DoorSession = Obj({
  lifespan: Type.Optional(
    Type.String({ pattern: DURATION, description: "Absolute lifetime for sessions begun at this door; unset: session.lifespan." }),
  ),
  idle_timeout: Type.Optional(
    Type.String({ pattern: DURATION, description: "Idle timeout for sessions begun at this door; unset: session.idle_timeout." }),
  ),
});

const UriList = (description: string) => Type.Array(Type.String({ maxLength: 2048 }), { default: [], maxItems: 100, description });

/**
 * One relying app of single sign-on, in RFC 7591 client metadata names (plus Auth0's
 * `allowed_logout_urls`). The admin API's `/admin/clients` takes the same fields (without the
 * secret, which it generates), so both sources are described once.
 */
export const OidcClient = Type.Object(
  {
    client_id: Type.String({ minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$", description: "The app's client_id." }),
    client_secret: Type.Optional(
      Type.String({ minLength: 32, maxLength: 512, description: "At least 32 characters; kept as SHA-256 only (D1). Omit for a public app (`none`)." }),
    ),
    token_endpoint_auth_method: Type.Union([Type.Literal("client_secret_basic"), Type.Literal("client_secret_post"), Type.Literal("none")], {
      default: "client_secret_basic",
      description: "`client_secret_basic` or `client_secret_post`: a confidential app (both methods are accepted); `none`: a public app, which must use PKCE.",
    }),
    redirect_uris: Type.Array(Type.String({ maxLength: 2048 }), { minItems: 1, maxItems: 100, description: "Where codes may be sent, compared exactly." }),
    post_logout_redirect_uris: UriList("RP-Initiated Logout targets (`/oidc/logout`), compared exactly."),
    allowed_logout_urls: UriList("Auth0's Allowed Logout URLs for `/v2/logout?client_id=`: a scheme is required, `*` only as the leftmost host label; the query of `returnTo` is not compared."),
    web_origins: UriList("Origins (scheme://host[:port]) whose pages may call /oauth/token, /oauth/revoke and /userinfo (CORS)."),
    backchannel_logout_uri: Type.Optional(Type.String({ maxLength: 2048, description: "Back-Channel Logout 1.0: where logout tokens are POSTed." })),
    backchannel_logout_session_required: Type.Boolean({ default: false, description: "The app needs `sid` in logout tokens (always sent)." }),
    frontchannel_logout_uri: Type.Optional(Type.String({ maxLength: 2048, description: "Front-Channel Logout 1.0: framed by the signed-out page." })),
    frontchannel_logout_session_required: Type.Boolean({ default: false, description: "The app needs `iss` and `sid` on its front-channel URI (always sent)." }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Obj({
  serve: Obj({
    public: Obj({
      host: Type.String({ default: "0.0.0.0", description: "Interface the public API listens on." }),
      port: Port(4433, "Port of the public API (self-service, sessions, health, /docs). Env alias CURFEW_PUBLIC_PORT."),
      base_url: Type.String({
        default: "http://localhost:4433",
        description:
          "The public URL clients use; unset, `http://localhost:` followed by serve.public.port. Every URL Curfew generates is built from it, never from the Host header (SEC-72); https turns on Secure cookies. Env alias CURFEW_BASE_URL.",
      }),
      trust_proxy: Type.Array(Type.String({ maxLength: 64 }), {
        default: [],
        maxItems: 64,
        description:
          "Reverse proxies in front of the public API, as addresses, CIDR ranges or `loopback`, `linklocal`, `uniquelocal`. A request from one of them is taken to come from the address its `X-Forwarded-For` names (the nearest untrusted hop): the address the per-IP limits count, the audit trail and the sessions' devices record. Empty: the TCP peer is the client, and `X-Forwarded-For` is ignored (anyone can send it).",
      }),
      cors: Obj({
        allowed_origins: Type.Array(Type.String(), {
          default: [],
          description:
            "Origins (scheme://host[:port]) whose pages may call the public API with credentials, e.g. a single-page app using Ory's SDK. Empty: no CORS. Their requests also count as same-site for cookie-authenticated session changes (D12).",
        }),
      }),
    }),
    admin: Obj({
      host: Type.String({
        default: "127.0.0.1",
        description: "Interface the admin API listens on. Anything but loopback requires serve.admin.key.",
      }),
      port: Port(4434, "Port of the admin API. Env alias CURFEW_ADMIN_PORT."),
      key: Type.String({
        default: "",
        description:
          "When set, every admin call needs `Authorization: Bearer <key>`, and the admin API may listen beyond loopback. At least 32 characters. Env alias CURFEW_ADMIN_KEY.",
      }),
    }),
  }),
  database: Obj({
    url: Type.String({
      default: "sqlite:./data/curfew.sqlite",
      description:
        "`sqlite:PATH` (relative to the working directory; `sqlite::memory:` for memory) or `postgres://user@host/db`. Migrated at start. Env alias CURFEW_DATABASE_URL.",
    }),
    postgres: Obj({
      pool_size: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: "Connections to PostgreSQL this process keeps at most." }),
      connect_timeout: Duration(
        "2s",
        "How long a request waits for a connection (a new one, or a free one of the pool) before it is answered 503 (FLT-01).",
      ),
      statement_timeout: Duration(
        "2s",
        "How long one statement may run, lock waits included (PostgreSQL's statement_timeout), before it fails and its request is answered 503; a server that stops answering altogether is given half a second more (FLT-01).",
      ),
    }),
  }),
  cluster: Obj({
    lease: Duration(
      "2s",
      "Several nodes on one PostgreSQL (ADR 0021): how long a node's lease lasts, renewed every third of it. A node answers from its session cache only while it holds one, and a logout waits for every other node's acknowledgement, at most this long for a node that is frozen or cut off. Between 300ms and 1m.",
    ),
  }),
  secrets: Obj({
    default: Type.String({
      default: "",
      description:
        "The server secret, at least 32 bytes (D3). Unset: generated on first start into data/curfew.secret (mode 0600); in production (NODE_ENV=production) an unset secret stops start-up. Env alias CURFEW_SECRET.",
    }),
  }),
  session: Obj({
    lifespan: Duration("12h", "Absolute session lifetime from sign-in (D5, ASVS 5.0 7.3.2)."),
    idle_timeout: Duration("30m", "A session unused this long is over (D5, ASVS 5.0 7.3.1). Precise to one minute."),
    purge_after: Duration("168h", "Ended sessions keep their row (revoked, with the reason) this long, then the purge job deletes them."),
    purge_interval: Duration("1h", "How often the purge job runs."),
    cache_max_bytes: Type.Integer({
      minimum: 0,
      default: 64 * 1024 * 1024,
      description:
        "How much memory this process's cache of live sessions may take, estimated per entry (about 1.7 KB for a typical session); the oldest entries make room. 0: no cache, every validation reads the database (D8, ADR 0021).",
    }),
    doors: Obj(
      {
        kratos: DoorSession,
        oidc: DoorSession,
        firstock: Obj({
          ...DoorSession.properties,
          daily_cutoff: Type.String({
            default: "23:59",
            description: "Firstock sessions also end at this time of day (HH:MM; empty: no daily cut-off), as broker sessions end daily (D5).",
          }),
          timezone: Type.String({ default: "Asia/Kolkata", description: "The IANA time zone of the Firstock daily cut-off and of userDetails requestTime." }),
        }),
        assets: DoorSession,
      },
      "Per-door overrides of lifespan and idle_timeout.",
    ),
  }),
  selfservice: Obj({
    default_browser_return_url: Type.String({
      default: "",
      description: "Where browsers go when no return_to is given; relative return_to values resolve against it. Defaults to the public base URL.",
    }),
    allowed_return_urls: Type.Array(Type.String(), {
      default: [],
      description:
        "The redirect gate's allow-list: absolute URLs matched on scheme, host (a leading `*.` label matches sub-domains) and path prefix at a segment boundary. The public base URL is always allowed. Env alias CURFEW_ALLOWED_RETURN_URLS (comma-separated).",
    }),
    flows: Obj({
      login: Obj({
        lifespan: Duration("1h", "How long a login flow can be submitted."),
        ui_url: UiUrl("/ui/login", "The sign-in page browsers are sent to with `?flow=<id>` (D16)."),
      }),
      registration: Obj({
        enabled: Type.Boolean({ default: true, description: "Whether self-service registration is open." }),
        lifespan: Duration("1h", "How long a registration flow can be submitted."),
        ui_url: UiUrl("/ui/registration", "The registration page browsers are sent to with `?flow=<id>` (D16)."),
      }),
      settings: Obj({
        lifespan: Duration("1h", "How long a settings flow (a password change) can be submitted."),
        ui_url: UiUrl("/ui/settings", "The change-password page browsers are sent to with `?flow=<id>` (D16)."),
        privileged_session_max_age: Duration(
          "15m",
          "A password change needs a sign-in at most this old (Kratos's privileged_session_max_age); an older session is asked to sign in again (`refresh=true`) first.",
        ),
        revoke_other_sessions_on_password_change: Type.Boolean({
          default: true,
          description: "A password change ends every other session of the identity, at every door, before it answers; the session that changed it stays.",
        }),
      }),
      error: Obj({
        ui_url: UiUrl("/ui/error", "The error page browsers are sent to with `?id=<error id>` (D16)."),
      }),
      logout: Obj({
        after: Obj({
          default_browser_return_url: UiUrl("/ui/logged-out", "Where a browser goes after logout when no return_to was given."),
        }),
      }),
    }),
  }),
  firstock: Obj({
    vendors: Type.Array(
      Type.Object({ vendor_code: Type.String({ minLength: 1 }), api_key: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      {
        default: [],
        description:
          "Vendor codes and API keys accepted by POST /api/V4/login (Firstock key generation). Empty: Firstock sign-in is refused. Env alias CURFEW_FIRSTOCK_VENDORS=CODE:KEY,CODE:KEY.",
      },
    ),
  }),
  assets: Obj({
    landing_page: Type.String({
      default: "/",
      description: "Where /logout sends a browser when logoutSuccessUrl is absent or refused (D15); a path is relative to the base URL.",
    }),
    server_version: Type.String({ default: "6.0.1.8", description: "The serverVersion the Assets door reports at login." }),
    status_ok_on_error: Type.Boolean({
      default: false,
      description:
        "Answer errors of /services/* with HTTP 200 and the error JSON, as Assets' returnStatusOkOnErrorForServicesApi does (D13). Off: real status codes. /logout always uses real status codes.",
    }),
  }),
  oidc: Obj({
    clients: Type.Array(OidcClient, {
      default: [],
      description:
        "The relying apps of single sign-on (docs/dialects/oidc.md). Env CURFEW_OIDC_CLIENTS: a JSON array of the same objects, replacing the file's list. A bad entry stops start-up.",
    }),
    allowed_logout_urls: UriList("The tenant's Allowed Logout URLs: `/v2/logout` without `client_id` checks `returnTo` against these."),
    signing_keys: Type.String({
      default: "",
      description:
        "The provider's private RS256 keys as a JWKS (JSON); the first signs. Unset: generated on first start into data/curfew-oidc-keys.json (mode 0600), like the secret (D3). Env alias CURFEW_OIDC_SIGNING_KEYS.",
    }),
    backchannel: Obj({
      allow_loopback: Type.Boolean({
        default: false,
        description: "Let back-channel logout POST to loopback addresses (tests, a one-machine demo). Env alias CURFEW_OIDC_ALLOW_LOOPBACK.",
      }),
      allow_private_networks: Type.Boolean({
        default: false,
        description: "Let back-channel logout POST to private and link-local addresses (apps on an internal network). Metadata addresses stay refused.",
      }),
    }),
  }),
  login: Obj({
    rate_limit: Obj({
      per_identifier: Obj({
        max: Type.Integer({
          minimum: 1,
          default: 10,
          description: "Failed sign-ins per identifier per window before 429 (SEC-60). On PostgreSQL every node counts in one table, so the limit holds for the cluster.",
        }),
        window: Duration("15m", "The per-identifier window."),
      }),
      per_ip: Obj({
        max: Type.Integer({ minimum: 1, default: 100, description: "Sign-in attempts per client IP per window before 429 (SEC-61)." }),
        window: Duration("15m", "The per-IP window."),
      }),
    }),
  }),
  hashers: Obj({
    argon2: Obj({
      memory_kib: Type.Integer({ minimum: 8, default: 19456, description: "argon2id memory cost in KiB (OWASP: 19 MiB)." }),
      iterations: Type.Integer({ minimum: 1, default: 2, description: "argon2id time cost." }),
    }),
  }),
  limits: Obj({
    body_bytes: Type.Integer({ minimum: 1024, default: 16384, description: "Largest request body accepted; larger gets 413 (SEC-67)." }),
    per_ip: Obj({
      flows: PerIpLimit(600, "Login and registration flows created per client IP per window before 429 (SEC-101); a sign-in makes one or two."),
      stored_errors: PerIpLimit(300, "Errors kept for the error page per client IP per window; past it the browser gets the error itself as JSON, not kept (SEC-101)."),
      bad_tokens: PerIpLimit(
        1000,
        "Firstock logout and userDetails calls with a dead jKey per client IP per window before 429 API_RATE_LIMIT (SEC-101, BAD-J24). A vendor's server calls from one address, and after the daily cut-off every jKey it holds is dead: size it to the jKeys a vendor holds.",
      ),
    }),
  }),
  audit: Obj({
    retention: Duration("2160h", "Audit events (sign-ins, failed sign-ins, lockouts, session ends, identity changes) are kept this long (default 90 days), then the purge job deletes them."),
  }),
  log: Obj({
    level: Type.Union(
      [Type.Literal("fatal"), Type.Literal("error"), Type.Literal("warn"), Type.Literal("info"), Type.Literal("debug"), Type.Literal("silent")],
      { default: "info", description: "Log level. At `info`: one line per request and one per security event (sign-ins, lockouts, logouts, refusals). Tokens, passwords and cookies are redacted at every level (SEC-06)." },
    ),
    format: Type.Union([Type.Literal("json"), Type.Literal("pretty")], {
      default: "json",
      description: "`json`: one JSON object per line on stdout (pino), for a log collector. `pretty`: coloured lines for people, through pino-pretty, a development dependency: not installed by `npm ci --omit=dev`.",
    }),
  }),
});

export type ConfigFile = Static<typeof ConfigSchema>;
