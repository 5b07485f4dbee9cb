import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What `/readyz` answers: `ready` decides 200 or 503, the rest says why. */
export type ReadyReport = { ready: boolean; [part: string]: unknown };

export type OpsListenerOptions = {
  /** `0` binds an ephemeral port (tests); the bound one is in the result. */
  port: number;
  host?: string;
  readiness: () => ReadyReport;
  metrics: Registry;
};

export type OpsListener = { port: number; close: () => Promise<void> };

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
};

/**
 * The probes and scrape target of a service without an HTTP API of its own: `/healthz` (the
 * process answers), `/readyz` (it serves now) and `/metrics` (Prometheus text).
 */
export function startOpsListener(opts: OpsListenerOptions): Promise<OpsListener> {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/readyz') {
      const report = opts.readiness();
      return json(res, report.ready ? 200 : 503, report);
    }
    if (path === '/metrics') {
      const text = await opts.metrics.metrics();
      res.writeHead(200, { 'Content-Type': opts.metrics.contentType }).end(text);
      return;
    }
    json(res, 404, { error: 'not found' });
  };
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
