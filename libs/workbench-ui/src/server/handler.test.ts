import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createWorkbenchHandler } from './handler.js';

describe('workbench handler', () => {
  const serve = createWorkbenchHandler({ wsPort: 4321 });
  const get = (path: string) => serve(new Request(`http://localhost${path}`));

  it('serves the page with the gateway WebSocket port filled in and a strict CSP', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<meta name="tabmesh-ws-port" content="4321" />');
    expect(html).not.toContain('__TABMESH_WS_PORT__');
    expect(html).toContain('src="/workbench/app.js"');
  });

  it('builds the page script from source, with the client inside, once', async () => {
    const res = await get('/workbench/app.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const js = await res.text();
    expect(js.length).toBeGreaterThan(10_000);
    expect(js).toContain('/v1/ws');
    expect(js).toContain('Preparing environment');
    expect(await (await get('/workbench/app.js')).text()).toBe(js);
    expect((await get('/workbench/app.css')).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('sends gzip to clients that accept it', async () => {
    const plain = await (await get('/workbench/app.js')).text();
    const res = await serve(
      new Request('http://localhost/workbench/app.js', { headers: { 'accept-encoding': 'gzip, br' } }),
    );
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBeLessThan(plain.length / 2);
    expect(gunzipSync(bytes).toString('utf8')).toBe(plain);
  });

  it('answers 404 for anything else under /workbench/', async () => {
    expect((await get('/workbench/../../package.json')).status).toBe(404);
    expect((await get('/workbench/secrets.txt')).status).toBe(404);
  });
});
