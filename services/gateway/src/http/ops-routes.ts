import type { Hono } from 'hono';
import type { GatewayMetrics } from '../gateway-metrics.js';
import type { Readiness } from '../readiness.js';
import type { AppEnv } from './app-env.js';

export type OpsRoutesDeps = {
  readiness: Readiness;
  metrics: GatewayMetrics;
  processMetrics?: { metrics: () => Promise<string> } | undefined;
};

/** Liveness, readiness and Prometheus metrics. */
export function registerOpsRoutes(app: Hono<AppEnv>, { readiness, metrics, processMetrics }: OpsRoutesDeps): void {
  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/readyz', (c) => {
    const report = readiness.report();
    return c.json(report, report.ready ? 200 : 503);
  });

  app.get('/metrics', async (c) =>
    c.body(metrics.registry.render() + ((await processMetrics?.metrics()) ?? ''), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );
}
