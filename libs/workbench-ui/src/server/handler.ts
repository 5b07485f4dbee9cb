import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
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

type Asset = { body: string; gzipped: Uint8Array<ArrayBuffer>; type: string };

const asset = (body: string, type: string): Asset => ({ body, type, gzipped: new Uint8Array(gzipSync(body)) });

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
    '/': async () =>
      asset(
        (await readFile(staticFile('index.html'), 'utf8')).replace('__TABMESH_WS_PORT__', String(opts.wsPort)),
        'text/html; charset=utf-8',
      ),
    '/workbench/app.css': async () => asset(await readFile(staticFile('app.css'), 'utf8'), 'text/css; charset=utf-8'),
    // The bundle carries zod (about 470 kB minified); gzip brings it near 110 kB.
    '/workbench/app.js': async () => asset(await bundlePage({ minify: opts.minify }), 'text/javascript; charset=utf-8'),
  };
  return async (request) => {
    const path = new URL(request.url).pathname;
    const make = makers[path];
    if (!make) return new Response('not found\n', { status: 404, headers: { 'Content-Type': 'text/plain' } });
    try {
      const found = await load(path, make);
      const gzip = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
      const headers: Record<string, string> = {
        'Content-Type': found.type,
        'Cache-Control': 'no-cache',
        Vary: 'Accept-Encoding',
        ...securityHeaders,
      };
      if (gzip) headers['Content-Encoding'] = 'gzip';
      const body = request.method === 'HEAD' ? null : gzip ? found.gzipped : found.body;
      return new Response(body, { headers });
    } catch (err) {
      return new Response(`workbench page unavailable: ${err instanceof Error ? err.message : String(err)}\n`, {
        status: 500,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
  };
}
