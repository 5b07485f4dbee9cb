import { testToken } from '@tabmesh/testkit';
import { Pool } from 'undici';

/**
 * A keep-alive connection pool from undici (the engine under Node's fetch, without the WHATWG
 * Request/Response layer): the cheapest HTTP client Node has, so the load generator takes as little
 * of the shared CPU as possible.
 */
export function httpPool(origin: string, connections = 64): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

/** The bearer token of the load generator (every org; the phases that use it lift the per-token limits). */
export const benchAuth = `Bearer ${testToken({ sub: 'bench', ttlSeconds: 6 * 3600 })}`;

/** POSTs a JSON body; resolves true when the status is `expect`. The body is always read. */
export async function postJson(pool: Pool, path: string, body: string, expect: number): Promise<boolean> {
  const res = await pool.request({
    method: 'POST',
    path,
    body,
    headers: { 'content-type': 'application/json', authorization: benchAuth },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  await res.body.text();
  if (res.statusCode !== expect) throw new Error(`HTTP ${res.statusCode}`);
  return true;
}
