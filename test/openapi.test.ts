/**
 * The OpenAPI documents (`/docs/json` on each listener) describe every route the listener serves:
 * each operation has an operationId, a summary and, for each answer with a body, a schema. A route
 * kept only for a vendor's wire quirk (one that always answers the same error) is hidden, not
 * listed as if it did something. The documents carry Curfew's name and version.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type TestServer, startTestServer } from "./support/server.ts";

interface Operation {
  operationId?: string;
  summary?: string;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
type OpenApi = {
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation & { security?: Record<string, string[]>[] }>>;
  components?: { securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }> };
  security?: Record<string, string[]>[];
};

/** Answers that carry no body by definition: no schema to ask for. */
const BODILESS = new Set(["204", "301", "302", "303", "307", "308"]);

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

for (const listener of ["public", "admin"] as const) {
  describe(`OpenAPI of the ${listener} listener`, () => {
    let doc: OpenApi;
    before(async () => {
      const app = listener === "public" ? server.server.publicApp : server.server.adminApp;
      const res = await app.inject({ method: "GET", url: "/docs/json" });
      assert.equal(res.statusCode, 200);
      doc = res.json<OpenApi>();
    });

    it("is Curfew's, at package.json's version", () => {
      assert.match(doc.info.title, /^Curfew /);
      assert.equal(doc.info.version, (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version);
    });

    it("every operation has an operationId, a summary, and a schema for each answer with a body", () => {
      const missing: string[] = [];
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          const name = `${method.toUpperCase()} ${path}`;
          if (!op.operationId) missing.push(`${name}: no operationId`);
          if (!op.summary) missing.push(`${name}: no summary`);
          const responses = Object.entries(op.responses ?? {});
          if (responses.length === 0) missing.push(`${name}: no responses`);
          for (const [status, response] of responses) {
            if (BODILESS.has(status) || status === "default") continue;
            const schemas = Object.values(response.content ?? {}).map((c) => c.schema);
            if (schemas.length === 0 || schemas.some((s) => s === undefined)) missing.push(`${name}: ${status} without a schema`);
          }
        }
      }
      assert.deepEqual(missing, []);
    });

    it("names how a caller proves who it is: session token, session cookie, bearer, admin key", () => {
      const schemes = doc.components?.securitySchemes ?? {};
      assert.deepEqual(schemes.sessionToken, { ...schemes.sessionToken, type: "apiKey", in: "header", name: "X-Session-Token" });
      assert.deepEqual(schemes.sessionCookie, { ...schemes.sessionCookie, type: "apiKey", in: "cookie", name: "ory_kratos_session" });
      assert.equal(schemes.adminKey?.scheme, "bearer");
      if (listener === "admin") {
        assert.deepEqual(doc.security, [{ adminKey: [] }, {}], "the admin key, when one is set");
      } else {
        assert.deepEqual(doc.paths["/sessions/whoami"]?.get?.security?.map((s) => Object.keys(s)[0]), ["sessionToken", "sessionCookie", "bearer"]);
        assert.ok(doc.paths["/self-service/settings"]?.post?.security?.some((s) => "sessionToken" in s));
      }
    });

    it("operationIds are unique", () => {
      const ids = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId));
      assert.deepEqual(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        [],
      );
    });
  });
}

it("the documentation page carries Curfew's name and mark, not the framework's logo", async () => {
  const index = await server.server.publicApp.inject({ method: "GET", url: "/docs" });
  assert.match(index.body, /<title>Curfew public API<\/title>/);
  const init = await server.server.publicApp.inject({ method: "GET", url: "/docs/static/swagger-initializer.js" });
  assert.equal(init.statusCode, 200);
  const logo = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(init.body)?.[1];
  assert.ok(logo, "a logo is set");
  assert.match(Buffer.from(logo, "base64").toString("utf8"), />Curfew<\/text>/);
});

it("the public PATCH /sessions/{id}/extend, which answers 404 as Kratos does, is not listed", async () => {
  const doc = (await server.server.publicApp.inject({ method: "GET", url: "/docs/json" })).json<OpenApi>();
  assert.equal(doc.paths["/sessions/{id}/extend"], undefined);
});
