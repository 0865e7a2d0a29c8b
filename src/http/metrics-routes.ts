/**
 * `GET /metrics` and Kratos's `GET /metrics/prometheus` on the admin listener: the Prometheus text
 * format. Behind the admin gate like every admin route (SEC-100): with `serve.admin.key` set, a
 * scraper sends it as a bearer token (Prometheus's `authorization` setting).
 */
import type { FastifyInstance } from "fastify";
import { adminGate } from "./admin-key.ts";
import type { Metrics } from "./metrics.ts";

export const METRICS_ROUTES = { metrics: "/metrics", prometheus: "/metrics/prometheus" } as const;

export async function metricsRoutes(app: FastifyInstance, options: { metrics: Metrics; adminKey: string | null }): Promise<void> {
  adminGate(app, options.adminKey, (_request, reply, refusal) => reply.code(refusal.status).type("text/plain; charset=utf-8").send(`${refusal.reason}\n`));
  const schema = (operationId: string) => ({
    operationId,
    tags: ["metadata"],
    summary: "Prometheus metrics (text exposition format)",
    produces: ["text/plain"],
    response: { 200: { type: "string", description: "The Prometheus text exposition format, version 0.0.4" } },
  });
  const scrape = async (_request: unknown, reply: import("fastify").FastifyReply) =>
    reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  app.get(METRICS_ROUTES.metrics, { schema: schema("getMetrics") }, scrape);
  app.get(METRICS_ROUTES.prometheus, { schema: schema("getMetricsPrometheus") }, scrape);
}
