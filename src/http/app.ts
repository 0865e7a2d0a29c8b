/**
 * What every listener shares: the Fastify instance with Curfew's body parsers, limits, security
 * headers, request ids, log redaction, health endpoints and OpenAPI at /docs. Doors register
 * on top as plugins.
 */
import { randomUUID } from "node:crypto";
import formbody from "@fastify/formbody";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginOptions,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { Type } from "typebox";
import { type Core, isCoreError } from "../core/index.ts";
import { assertIdentityEncoding, assertUtf8, decodeUtf8, parseStrictJson } from "./json-body.ts";
import type { DoorLabel, Metrics } from "./metrics.ts";
import { securityHeaders } from "./security-headers.ts";
import { VERSION } from "../version.ts";
import { logRefusal } from "./security-log.ts";

export interface HttpAppOptions {
  title: string;
  description: string;
  baseUrl: URL;
  bodyLimit: number;
  logLevel: string;
  core: Core;
  /** Rewrites a request URL before routing (the admin listener adds `/admin`, as Kratos does). */
  rewriteUrl?: (url: string) => string;
  /**
   * Answers a request Fastify cannot even route (a malformed URL), in the listener's dialect.
   * Security headers are already set on the reply.
   */
  malformedRequest: (request: FastifyRequest, reply: FastifyReply) => void;
  /** `log.format`: `pretty` for people (pino-pretty, a development dependency). */
  logFormat?: "json" | "pretty";
  /** Where requests are counted; none in tests that do not look. */
  metrics?: Metrics | null;
  /** The door of a route no door plugin tagged (`forDoor`): `admin` on the admin listener, else `none`. */
  door: DoorLabel;
  /** Proxies whose X-Forwarded-For names the client (`serve.public.trust_proxy`); none by default. */
  trustProxy?: readonly string[];
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set on every route of a door plugin by `forDoor`: the door label of its metrics and log lines. */
    door?: DoorLabel;
  }
}

/**
 * Registers a door's plugin so that every route it declares carries the door's label (route
 * config, set once per route: nothing is added to a request's path).
 */
export function forDoor<O extends FastifyPluginOptions>(door: DoorLabel, plugin: FastifyPluginAsync<O>): FastifyPluginAsync<O> {
  return async (app, options) => {
    app.addHook("onRoute", (route) => {
      route.config = { ...(route.config ?? {}), door } as typeof route.config;
    });
    await plugin(app, options);
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * How a caller proves who it is, as the OpenAPI documents name it: a session by its token (Kratos's
 * header, or a bearer), or by its cookie; the admin API by its key. Routes say which they take
 * (`SESSION_SECURITY`); the admin listener's document requires the key throughout.
 */
const SECURITY_SCHEMES = {
  sessionToken: { type: "apiKey", in: "header", name: "X-Session-Token", description: "A session token (id.secret), as native apps send it" },
  sessionCookie: { type: "apiKey", in: "cookie", name: "ory_kratos_session", description: "The browser session cookie" },
  bearer: { type: "http", scheme: "bearer", description: "A session token as a bearer token" },
  adminKey: { type: "http", scheme: "bearer", description: "serve.admin.key; without one, the admin API answers only on loopback" },
} as const;

/** An operation of a signed-in caller: any one of the session's three carriers. */
export const SESSION_SECURITY: { [scheme: string]: string[] }[] = [{ sessionToken: [] }, { sessionCookie: [] }, { bearer: [] }];

/** The documentation page's corner: Curfew's name, in the page's own font. */
const WORDMARK = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="110" height="32" viewBox="0 0 110 32"><text x="0" y="24" font-family="sans-serif" font-size="24" font-weight="700" fill="#ffffff">Curfew</text></svg>',
);

export async function createHttpApp(options: HttpAppOptions) {
  let headers: Record<string, string> = {};
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    // Only listed proxies: X-Forwarded-For from anyone else is a client's claim about itself.
    ...(options.trustProxy && options.trustProxy.length > 0 ? { trustProxy: [...options.trustProxy] } : {}),
    // SEC-67: bounded header and request times (slowloris), on top of Node's header size limit.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
    // Fastify's own pair of lines per request gives way to the one line below (onResponse).
    logController: new LogController({ disableRequestLogging: true }),
    logger: {
      level: options.logLevel,
      ...(options.logFormat === "pretty" ? { transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l" } } } : {}),
      // SEC-06: tokens, cookies and passwords never reach a log line.
      redact: {
        paths: [
          "req.headers.cookie",
          "req.headers.authorization",
          'req.headers["x-session-token"]',
          'req.headers["x-csrf-token"]',
          "*.password",
          "*.session_token",
          "*.jKey",
          "*.apiKey",
          "*.TOTP",
        ],
        censor: "[redacted]",
      },
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
      },
    },
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    // Hooks do not run for requests that fail before routing, so the headers are set here too.
    frameworkErrors: (_error, request, reply) => {
      reply.headers(headers);
      options.malformedRequest(request, reply);
    },
    ...(options.rewriteUrl ? { rewriteUrl: (req: import("node:http").IncomingMessage) => options.rewriteUrl!(req.url ?? "/") } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // One line per request (request id, method, route pattern, status, duration, door) and its
  // metrics. The route's pattern, never its path: a path can hold ids and tokens (SEC-06).
  const metrics = options.metrics ?? null;
  app.addHook("onResponse", (request, reply, done) => {
    const door = request.routeOptions.config.door ?? options.door;
    const route = request.routeOptions.url ?? "unmatched";
    metrics?.request(door, route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, door }, "request");
    done();
  });
  // A redirect target the gate refused (SEC-31..35), whichever door's route threw it.
  app.addHook("onError", async (request, _reply, error) => {
    if (isCoreError(error, "RETURN_TO_NOT_ALLOWED") || isCoreError(error, "RETURN_TO_INVALID")) {
      logRefusal(request, "redirect.refused", request.routeOptions.config.door ?? options.door);
    }
  });

  // Before any body is read, whichever door's route it is (its error handler words the refusal).
  app.addHook("preParsing", async (request, _reply, payload) => {
    assertIdentityEncoding(request.headers["content-encoding"]);
    return payload;
  });
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    // Many HTTP clients send `Content-Type: application/json` on every call, a bodiless DELETE
    // included. Like Kratos, which decodes a body only where the operation has one, an empty body
    // on a route that declares none is no body at all, not a malformed one.
    if ((body as Buffer).length === 0 && request.routeOptions.schema?.body === undefined) {
      done(null, undefined);
      return;
    }
    try {
      assertUtf8(request.headers["content-type"]);
      done(null, parseStrictJson(decodeUtf8(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  await app.register(formbody, { bodyLimit: options.bodyLimit });
  headers = securityHeaders(app, options.baseUrl.protocol === "https:");

  await app.register(swagger, {
    // A route that answers several methods shares one schema, and so one operationId: each
    // method after the first gets its own (`toSession` → `toSessionPost`), as OpenAPI requires.
    transformObject: (documentObject) => uniqueOperationIds((documentObject as { openapiObject: OpenApiPaths }).openapiObject),
    openapi: {
      openapi: "3.0.3",
      info: { title: options.title, description: options.description, version: VERSION },
      servers: [{ url: options.baseUrl.href.replace(/\/$/, "") }],
      components: { securitySchemes: SECURITY_SCHEMES },
      // The admin listener: every call carries the admin key when one is set (else loopback only).
      ...(options.door === "admin" ? { security: [{ adminKey: [] }, {}] } : {}),
    },
  });
  // Curfew's own page: its name in the tab, no framework logo in the corner.
  await app.register(swaggerUi, { routePrefix: "/docs", logo: { type: "image/svg+xml", content: WORDMARK }, theme: { title: options.title } });

  // Kratos's GET /version, on both listeners: what a deployment check or a support request asks first.
  app.get(
    "/version",
    {
      schema: {
        operationId: "getVersion",
        tags: ["metadata"],
        summary: "The running server's version",
        response: { 200: Type.Object({ version: Type.String() }) },
      },
    },
    async (_request, reply) => reply.send({ version: VERSION }),
  );

  const Status = Type.Object({ status: Type.String() });
  app.get(
    "/health/alive",
    { schema: { operationId: "isAlive", tags: ["metadata"], summary: "The process is up", response: { 200: Status } } },
    async (_request, reply) => reply.send({ status: "ok" }),
  );
  app.get(
    "/health/ready",
    {
      schema: {
        operationId: "isReady",
        tags: ["metadata"],
        summary: "The process can serve: its store answers",
        response: { 200: Status, 503: Type.Object({ status: Type.String(), errors: Type.Record(Type.String(), Type.String()) }) },
      },
    },
    async (request, reply) => {
      try {
        await options.core.ready();
        return reply.send({ status: "ok" });
      } catch (error) {
        request.log.warn({ err: error }, "readiness check failed");
        return reply.code(503).send({ status: "unavailable", errors: { database: "the session store did not answer" } });
      }
    },
  );
  return app;
}

export type HttpApp = Awaited<ReturnType<typeof createHttpApp>>;

/** What a door plugin is handed: a listener's Fastify instance, typed by its TypeBox schemas. */
export type DoorApp = FastifyInstance<
  import("node:http").Server,
  import("node:http").IncomingMessage,
  import("node:http").ServerResponse,
  import("fastify").FastifyBaseLogger,
  TypeBoxTypeProvider
>;
export type { FastifyInstance };

/**
 * Query values that may carry a secret (Kratos logout tokens; the Assets door's `password` and
 * `cred`, which the Assets Server documents in the query string) are
 * not logged (SEC-06).
 */
function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|session_token|jKey|csrfToken|password|cred|authcred)=)[^&]*/gi, "$1[redacted]");
}

type OpenApiPaths = { paths?: Record<string, Record<string, { operationId?: string }>> };

function uniqueOperationIds<T extends OpenApiPaths>(doc: T): T {
  const seen = new Set<string>();
  for (const methods of Object.values(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op.operationId) continue;
      // The methods of one route share one operation object: the renamed one gets a copy.
      const id = seen.has(op.operationId) ? `${op.operationId}${method[0]!.toUpperCase()}${method.slice(1)}` : op.operationId;
      if (id !== op.operationId) methods[method] = { ...op, operationId: id };
      seen.add(id);
    }
  }
  return doc;
}
