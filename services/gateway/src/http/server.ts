import uWS from 'uWebSockets.js';
import { STATUS_CODES } from 'node:http';
import type { ServerBindings } from './app-env.js';
import { BufferedRequest } from './buffered-request.js';
import { installLightResponse, keptParts } from './light-response.js';

export type HttpServer = { port: number; close: () => Promise<void> };

export type HttpServerOptions = {
  hostname: string;
  port: number;
  /** Bodies are read up to this many bytes; past it the app is told (`bodyTooLarge`) and the connection closed after the reply. */
  maxBodyBytes: number;
};

/** Headers uWS writes itself on `end` (the body's length), or that do not apply to a body sent whole. */
const WrittenByServer = new Set(['content-length', 'transfer-encoding', 'connection']);
/** A Host header fit to build a URL from; anything else is replaced by the listening address. */
const PlainHost = /^[\w.-]+(:\d+)?$|^\[[\da-f:.]+\](:\d+)?$/i;

/** What the server runs: a hono app's `fetch` (any app: it is handed the server's bindings as its env). */
export type FetchApp = { fetch: (request: Request, env: ServerBindings) => Response | Promise<Response> };

/**
 * Serves the hono app on uWebSockets.js: HTTP parsing and writing in uWS's native code instead of
 * Node's http server, which cost the gateway about 0.3 ms of CPU per request (see docs/bench).
 * Resolves once listening, with the bound port.
 */

export function startHttpServer(app: FetchApp, opts: HttpServerOptions): Promise<HttpServer> {
  installLightResponse();
  let closing = false;
  const server = uWS.App().any('/*', (res, req) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const head = method === 'HEAD';
    const headers = new Headers();
    req.forEach((name, value) => {
      headers.append(name, value);
    });
    const query = req.getQuery();
    const host = headers.get('host');
    const authority = host && PlainHost.test(host) ? host : `${opts.hostname}:${boundPort}`;
    const url = `http://${authority}${req.getUrl()}${query ? `?${query}` : ''}`;
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();

    const dispatch = (bytes: Uint8Array<ArrayBuffer> | null, bodyTooLarge: boolean) => {
      const env: ServerBindings = { remoteAddress, bodyTooLarge };
      // A HEAD is the GET without its body (as hono answers it too), sent with the GET body's length.
      const request = new BufferedRequest(head ? 'GET' : method, url, headers, bytes).asRequest();
      void Promise.resolve(app.fetch(request, env))
        .then((response) => send(response, closing || bodyTooLarge))
        .catch(() => send(new Response('internal error\n', { status: 500 }), true));
    };
    const send = async (response: Response, close: boolean) => {
      const parts = keptParts(response) ?? {
        status: response.status,
        headers: response.headers,
        body: response.body ? new Uint8Array(await response.arrayBuffer()) : null,
      };
      if (aborted) return;
      res.cork(() => {
        res.writeStatus(`${parts.status} ${STATUS_CODES[parts.status] ?? ''}`);
        parts.headers.forEach((value, name) => {
          if (!WrittenByServer.has(name)) res.writeHeader(name, value);
        });
        // uWS 20.30 leaves the connection waiting for a body after endWithoutBody(length): the
        // length goes in as a header, and without arguments it ends the response as it should.
        if (head) res.writeHeader('content-length', String(bodyLength(parts.body))).endWithoutBody();
        else res.end(parts.body ?? '', close);
      });
    };

    const length = headers.get('content-length');
    const hasBody = headers.has('transfer-encoding') || (length !== null && length !== '0');
    if (!hasBody) return dispatch(null, false);
    if (length !== null && Number(length) > opts.maxBodyBytes) {
      // Refused on its declared size, unread: the reply closes the connection, so the rest is never parsed as a request.
      res.onData(() => undefined);
      return dispatch(null, true);
    }
    const chunks: Buffer<ArrayBuffer>[] = [];
    let size = 0;
    let refused = false;
    res.onData((chunk, last) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > opts.maxBodyBytes) {
        refused = true;
        return dispatch(null, true);
      }
      // uWS reuses the chunk's memory once this returns.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (last) dispatch(chunks.length === 1 ? (chunks[0] as Buffer<ArrayBuffer>) : Buffer.concat(chunks), false);
    });
  });

  let boundPort = opts.port;
  return new Promise((resolve, reject) => {
    server.listen(opts.hostname, opts.port, (listenSocket) => {
      if (!listenSocket) {
        reject(new Error(`HTTP listener could not bind ${opts.hostname}:${opts.port}`));
        return;
      }
      boundPort = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
      resolve({
        port: boundPort,
        close: async () => {
          // New connections are refused from here; a kept-alive one is closed after its next reply.
          closing = true;
          uWS.us_listen_socket_close(listenSocket);
        },
      });
    });
  });
}

function bodyLength(body: string | Uint8Array | null): number {
  if (body === null) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}
