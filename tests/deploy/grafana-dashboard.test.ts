/**
 * The Grafana dashboard reads only metrics the code exports: every panel query names metrics from
 * the gateway's registry, the worker list of libs/contracts or prom-client's process metrics, and
 * every one of those metrics is on some panel. A renamed metric fails here, not on an empty graph.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessMetricNames, WorkerMetricNames } from '@tabmesh/contracts';
import { createGatewayMetrics } from '@tabmesh/gateway';
import { describe, expect, it } from 'vitest';

const dashboardPath = join(import.meta.dirname, '..', '..', 'deploy', 'grafana', 'tabmesh-dashboard.json');

type Panel = {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { refId: string; expr: string }[];
};
type Dashboard = {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};

/** The gateway's metric names, read from what its registry exposes (`# TYPE <name> <kind>`). */
function gatewayMetrics(): Map<string, string> {
  const text = createGatewayMetrics().registry.render();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

const HistogramWorkerMetrics = new Set<string>([
  WorkerMetricNames.stepDuration,
  WorkerMetricNames.queueWait,
  WorkerMetricNames.timeToReady,
  WorkerMetricNames.drainDuration,
]);

/** Every series name a query may use: a metric, or a histogram's `_bucket`/`_sum`/`_count`. */
function knownSeries(): Map<string, string> {
  const series = new Map<string, string>();
  const add = (name: string, histogram: boolean) => {
    series.set(name, name);
    if (histogram) for (const suffix of ['_bucket', '_sum', '_count']) series.set(`${name}${suffix}`, name);
  };
  for (const [name, kind] of gatewayMetrics()) add(name, kind === 'histogram');
  for (const name of Object.values(WorkerMetricNames)) add(name, HistogramWorkerMetrics.has(name));
  for (const name of Object.values(ProcessMetricNames)) add(name, false);
  return series;
}

const metricTokens = (expr: string): string[] =>
  [...expr.matchAll(/\b(?:tabmesh|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0]);

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
  const graphs = dashboard.panels.filter((p) => p.type !== 'row');
  const known = knownSeries();

  it('reads the gateway metrics from its registry', () => {
    expect(gatewayMetrics().get('tabmesh_gateway_http_requests_total')).toBe('counter');
    expect(gatewayMetrics().get('tabmesh_gateway_tab_create_seconds')).toBe('histogram');
  });

  it('has unique panel ids and a Prometheus datasource variable every panel uses', () => {
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's datasource variable, resolved by Grafana
    for (const p of graphs) expect(p.datasource?.uid, p.title).toBe('${datasource}');
  });

  it('queries, on every panel, only metrics the code exports', () => {
    expect(graphs.length).toBeGreaterThan(10);
    for (const panel of graphs) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const tokens = metricTokens(target.expr);
        expect(tokens.length, `${panel.title} ${target.refId}`).toBeGreaterThan(0);
        for (const token of tokens)
          expect(known.has(token), `${panel.title}: ${token} is not an exported metric`).toBe(true);
      }
    }
  });

  it('shows every exported metric on some panel', () => {
    const shown = new Set(
      graphs.flatMap((p) => (p.targets ?? []).flatMap((t) => metricTokens(t.expr))).map((t) => known.get(t)),
    );
    const exported = new Set(known.values());
    expect([...exported].filter((name) => !shown.has(name))).toEqual([]);
  });

  it('fails on a metric the code does not export', () => {
    expect(known.has('tabmesh_jobs_total')).toBe(true);
    expect(known.has('tabmesh_job_total')).toBe(false);
    expect(known.has('tabmesh_jobs_in_flight_bucket')).toBe(false);
  });
});
