import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.js';

export type HttpServer = { port: number; close: () => Promise<void> };

/** Serves the app on Node's http server; resolves once listening, with the bound port. */
export function startHttpServer(app: Hono<AppEnv>, hostname: string, port: number): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    // The listen callback runs after `serve` returned, so `server` is assigned by then.
    const server: ServerType = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
