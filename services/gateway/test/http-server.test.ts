import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../src/http/app-env.js';
import { keptParts, LightResponse } from '../src/http/light-response.js';
import { type HttpServer, startHttpServer } from '../src/http/server.js';

const MaxBody = 1024;

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string; socket: number };

/** One request over node:http (the client whose parsing users' proxies resemble most), with its socket's local port. */
function send(
  port: number,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | string[]; agent?: Agent },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: opts.headers,
        agent: opts.agent,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socket: req.socket?.localPort ?? 0 }),
        );
      },
    );
    req.on('error', reject);
    for (const piece of Array.isArray(opts.body) ? opts.body : opts.body ? [opts.body] : []) req.write(piece);
    req.end();
  });
}

describe('the uWS HTTP server under hono', () => {
  let server: HttpServer;
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    await next();
    // Set after the handler made its response: it must still be written.
    c.header('x-after', 'yes');
  });
  app.get('/hello', (c) => c.json({ hello: 'world' }));
  app.post('/echo', async (c) =>
    c.json({ text: await c.req.text(), tooLarge: c.env.bodyTooLarge, peer: c.env.remoteAddress }, 201),
  );
  app.post('/json', async (c) => c.json(await c.req.json()));
  app.get('/url', (c) => c.text(c.req.url));
  app.get('/stream', () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('one,'));
        controller.enqueue(new TextEncoder().encode('two'));
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/csv' } });
  });
  app.get('/boom', () => {
    throw new Error('handler failed');
  });
  app.onError((err, c) => c.json({ error: err.message }, 500));

  beforeAll(async () => {
    server = await startHttpServer(app, { hostname: '127.0.0.1', port: 0, maxBodyBytes: MaxBody });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers with status, headers set before and after the handler, and the body', async () => {
    const res = await send(server.port, { path: '/hello' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-after']).toBe('yes');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
    expect(JSON.parse(res.body)).toEqual({ hello: 'world' });
  });

  it('answers HEAD with the GET headers and no body, and the connection goes on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const res = await send(server.port, { method: 'HEAD', path: '/hello', agent });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toBe('');
      const next = await send(server.port, { path: '/hello', agent });
      expect(next.socket).toBe(res.socket);
      expect(JSON.parse(next.body)).toEqual({ hello: 'world' });
    } finally {
      agent.destroy();
    }
  });

  /** Posts `text` to /echo in two pieces, framed by its length or chunked, one reply each. */
  const echoBothWays = (text: string, split: number) =>
    Promise.all(
      (
        [{ 'content-length': String(Buffer.byteLength(text)) }, { 'transfer-encoding': 'chunked' }] as Record<
          string,
          string
        >[]
      ).map((headers) =>
        send(server.port, { method: 'POST', path: '/echo', headers, body: [text.slice(0, split), text.slice(split)] }),
      ),
    );

  it('hands the body over whole, sent in pieces with a length or chunked, with the peer address', async () => {
    const text = 'é'.repeat(300);
    for (const res of await echoBothWays(text, 7)) {
      expect(res.status).toBe(201);
      expect(JSON.parse(res.body)).toEqual({ text, tooLarge: false, peer: '127.0.0.1' });
    }
    const parsed = await send(server.port, { method: 'POST', path: '/json', body: '{"a":[1,2]}', headers: {} });
    expect(JSON.parse(parsed.body)).toEqual({ a: [1, 2] });
  });

  it('does not hand over a body past the limit, declared or counted, and closes that connection', async () => {
    for (const res of await echoBothWays('x'.repeat(MaxBody + 1), 10)) {
      expect(res.status).toBe(201);
      expect(JSON.parse(res.body)).toMatchObject({ text: '', tooLarge: true });
      expect(res.headers.connection).toBe('close');
    }
    // Exactly at the limit is read.
    const at = await send(server.port, { method: 'POST', path: '/echo', body: 'y'.repeat(MaxBody) });
    expect(JSON.parse(at.body)).toMatchObject({ text: 'y'.repeat(MaxBody), tooLarge: false });
  });

  it('keeps a connection alive across requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = [];
      for (let i = 0; i < 3; i++) ports.push((await send(server.port, { path: '/hello', agent })).socket);
      expect(new Set(ports).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('writes a stream body whole, and a failing handler as the app answers it', async () => {
    const res = await send(server.port, { path: '/stream' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv');
    expect(res.body).toBe('one,two');
    const boom = await send(server.port, { path: '/boom' });
    expect(boom.status).toBe(500);
    expect(JSON.parse(boom.body)).toEqual({ error: 'handler failed' });
  });

  it('builds the URL from a plain Host header and from the listening address otherwise', async () => {
    const plain = await send(server.port, { path: '/url?a=1&b=2', headers: { host: 'gw.example:8080' } });
    expect(plain.body).toBe('http://gw.example:8080/url?a=1&b=2');
    // A Host that is not a host name must not move the path hono routes on.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.end('GET /url HTTP/1.1\r\nHost: evil/admin?\r\nConnection: close\r\n\r\n');
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw.endsWith(`http://127.0.0.1:${server.port}/url`)).toBe(true);
  });

  it('refuses new connections once closed', async () => {
    const other = await startHttpServer(app, { hostname: '127.0.0.1', port: 0, maxBodyBytes: MaxBody });
    expect((await send(other.port, { path: '/hello' })).status).toBe(200);
    await other.close();
    await expect(send(other.port, { path: '/hello', agent: new Agent() })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('LightResponse', () => {
  it('keeps a string or byte body as given, with the default type of a string body', () => {
    const text = new LightResponse('hi', { status: 202 }) as unknown as Response;
    expect(keptParts(text)).toMatchObject({ status: 202, body: 'hi' });
    expect(text.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
    const bytes = new Uint8Array([1, 2, 3]);
    const bin = new LightResponse(bytes, {
      headers: { 'content-type': 'application/octet-stream' },
    }) as unknown as Response;
    expect(keptParts(bin)?.body).toBe(bytes);
    expect(bin.status).toBe(200);
    expect(bin.ok).toBe(true);
  });

  it('behaves as a fetch Response when read, with the headers as changed since', async () => {
    const res = new LightResponse('{"a":1}', {
      status: 201,
      headers: { 'content-type': 'application/json' },
    }) as unknown as Response;
    res.headers.set('x-late', '1');
    expect(res instanceof Response).toBe(true);
    expect(await res.clone().json()).toEqual({ a: 1 });
    // Read once through the native Response: nothing is kept any more, the state is the native one's.
    expect(keptParts(res)).toBeNull();
    expect(res.status).toBe(201);
    expect(res.headers.get('x-late')).toBe('1');
    expect(await res.text()).toBe('{"a":1}');
    expect(res.bodyUsed).toBe(true);
  });

  it('keeps nothing of a stream body and reads it through the native Response', async () => {
    const stream = new Blob(['abc']).stream();
    const res = new LightResponse(stream) as unknown as Response;
    expect(keptParts(res)).toBeNull();
    expect(await res.text()).toBe('abc');
  });
});
