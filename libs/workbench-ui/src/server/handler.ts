import { readFile } from 'node:fs/promises';
import { bundlePage } from './bundle.js';

export type WorkbenchOptions = {
  /** The gateway's WebSocket port; the page connects to it on the host it was loaded from. */
  wsPort: number;
  /** Bundle without minifying (readable stack traces while working on the page). */
  minify?: boolean;
};

/** Requests the page answers; everything else is left to the gateway. */
export const WorkbenchPaths = { page: '/', assets: '/workbench/*' } as const;

const staticFile = (name: string): URL => new URL(`../../static/${name}`, import.meta.url);

const securityHeaders = {
  // The page only talks to its own origin and the gateway's WebSocket, and runs no inline script.
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

type Asset = { body: string; type: string };

/**
 * Serves the workbench page: `/` (index.html with the WebSocket port filled in) and
 * `/workbench/app.js|app.css`. Assets are built once, on first request, then kept in memory.
 * Returns 404 for anything else under `/workbench/`.
 */
export function createWorkbenchHandler(opts: WorkbenchOptions): (request: Request) => Promise<Response> {
  const assets = new Map<string, Promise<Asset>>();
  const load = (name: string, make: () => Promise<Asset>): Promise<Asset> => {
    let p = assets.get(name);
    if (!p) {
      p = make();
      assets.set(name, p);
      // A failed build is not cached: the next request tries again.
      p.catch(() => assets.delete(name));
    }
    return p;
  };
  const makers: Record<string, () => Promise<Asset>> = {
    '/': async () => ({
      body: (await readFile(staticFile('index.html'), 'utf8')).replace('__TABMESH_WS_PORT__', String(opts.wsPort)),
      type: 'text/html; charset=utf-8',
    }),
    '/workbench/app.css': async () => ({ body: await readFile(staticFile('app.css'), 'utf8'), type: 'text/css; charset=utf-8' }),
    '/workbench/app.js': async () => ({ body: await bundlePage({ minify: opts.minify }), type: 'text/javascript; charset=utf-8' }),
  };
  return async (request) => {
    const path = new URL(request.url).pathname;
    const make = makers[path];
    if (!make) return new Response('not found\n', { status: 404, headers: { 'Content-Type': 'text/plain' } });
    try {
      const asset = await load(path, make);
      return new Response(request.method === 'HEAD' ? null : asset.body, {
        headers: { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', ...securityHeaders },
      });
    } catch (err) {
      return new Response(`workbench page unavailable: ${err instanceof Error ? err.message : String(err)}\n`, {
        status: 500,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
  };
}
