import type { OpenAPIHono } from '@hono/zod-openapi';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { Readiness } from '../readiness.js';
import { healthzRoute, metricsRoute, readyzRoute } from './api-routes.js';
import type { AppEnv } from './app-env.js';

export type OpsRoutesDeps = {
  readiness: Readiness;
  metrics: GatewayMetrics;
  processMetrics?: { metrics: () => Promise<string> } | undefined;
};

/** Liveness, readiness and Prometheus metrics. */
export function registerOpsRoutes(
  app: OpenAPIHono<AppEnv>,
  { readiness, metrics, processMetrics }: OpsRoutesDeps,
): void {
  app.openapi(healthzRoute, (c) => c.json({ ok: true as const }, 200));

  app.openapi(readyzRoute, (c) => {
    const report = readiness.report();
    return report.ready ? c.json(report, 200) : c.json(report, 503);
  });

  app.openapi(metricsRoute, async (c) =>
    c.text(metrics.registry.render() + ((await processMetrics?.metrics()) ?? ''), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );
}
