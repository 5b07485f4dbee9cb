import { ErrorCode } from '@tabmesh/contracts';
import { taskRecord } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { TabmeshHttpError } from './errors.js';
import { TabmeshClient } from './http-client.js';

const now = '2025-01-01T00:00:00.000Z';
const taskBody = {
  v: 1,
  task: {
    ...taskRecord('o', 't', { state: 'unprovisioned', generation: 0, progress: null, updatedAt: now }),
    revision: 0,
  },
};

/** A recording fetch that answers every request with `answer()`. */
function recorder(answer: () => Response = () => Response.json(taskBody)) {
  const seen: Headers[] = [];
  const fetch = (async (_url: string, init?: RequestInit) => {
    seen.push(new Headers(init?.headers));
    return answer();
  }) as typeof globalThis.fetch;
  return { seen, fetch };
}

const problem = (status: number, code: string) =>
  new Response(
    JSON.stringify({ type: `https://tabmesh.dev/problems/${code}`, title: code, status, code, detail: `${code} here` }),
    {
      status,
      headers: { 'content-type': 'application/problem+json' },
    },
  );

describe('TabmeshClient tokens', () => {
  it('sends Authorization: Bearer on every request, asking the provider before each one', async () => {
    const r = recorder();
    let n = 0;
    const http = new TabmeshClient({
      baseUrl: 'http://gw',
      fetch: r.fetch,
      token: async () => `tok-${++n}`,
      headers: { Authorization: 'Basic x', 'x-extra': '1' },
    });
    await http.getTask('o', 't');
    await http.getTask('o', 't');
    expect(r.seen.map((h) => h.get('authorization'))).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(r.seen[0]!.get('x-extra')).toBe('1');
  });

  it('sends no Authorization without a token, and keeps a fixed one', async () => {
    const r = recorder();
    await new TabmeshClient({ baseUrl: 'http://gw', fetch: r.fetch, token: () => null }).getTask('o', 't');
    await new TabmeshClient({ baseUrl: 'http://gw', fetch: r.fetch, token: 'fixed' }).getTask('o', 't');
    expect(r.seen.map((h) => h.get('authorization'))).toEqual([null, 'Bearer fixed']);
  });

  it('turns 401 and 403 into unauthenticated and forbidden, with or without a problem body', async () => {
    const cases: Array<[() => Response, string, number]> = [
      [() => problem(401, 'unauthenticated'), ErrorCode.Unauthenticated, 401],
      [() => problem(403, 'forbidden'), ErrorCode.Forbidden, 403],
      [() => new Response('no', { status: 401 }), ErrorCode.Unauthenticated, 401],
      [() => new Response('<html>', { status: 403 }), ErrorCode.Forbidden, 403],
    ];
    for (const [answer, code, status] of cases) {
      const http = new TabmeshClient({ baseUrl: 'http://gw', fetch: recorder(answer).fetch, token: 'expired' });
      const err = await http.getTask('o', 't').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TabmeshHttpError);
      expect(err).toMatchObject({ code, status, retryable: false });
    }
  });

  it('fails a call with the error of the token provider, sending nothing', async () => {
    const r = recorder();
    const http = new TabmeshClient({
      baseUrl: 'http://gw',
      fetch: r.fetch,
      token: () => Promise.reject(new Error('sign-in needed')),
    });
    await expect(http.getTask('o', 't')).rejects.toThrow('sign-in needed');
    expect(r.seen).toHaveLength(0);
  });
});
