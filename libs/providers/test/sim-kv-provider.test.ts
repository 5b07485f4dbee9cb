import { loadConfig } from '@tabmesh/runtime';
import { NatsServer, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLive, createProvider, SimKvProvider, SimProvider } from '../src/index.js';

// Two providers on two connections stand for two service processes sharing one ledger.
describe('sim provider with its ledger in NATS KV (load and fault tests only)', () => {
  let server: NatsServer;
  let a: SimKvProvider;
  let b: SimKvProvider;
  const signal = new AbortController().signal;
  const env = { TABMESH_PROVIDER: 'sim', TABMESH_SIM_PROVISION_MS: '30', TABMESH_SIM_SESSION_MS: '10' };

  beforeAll(async () => {
    server = await NatsServer.start();
    // What a service parses at start: the ledger's bus is the service's own NATS_URL.
    const config = loadConfig({ ...env, TABMESH_SIM_LEDGER: 'nats', NATS_URL: server.url, ...server.adminEnv });
    a = (await createProvider(config)) as SimKvProvider;
    b = (await createProvider(config)) as SimKvProvider;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it('is chosen by TABMESH_SIM_LEDGER=nats, and the in-memory sim stays the default', async () => {
    expect(a).toBeInstanceOf(SimKvProvider);
    const memory = await createProvider(loadConfig(env));
    expect(memory).toBeInstanceOf(SimProvider);
    expect(memory).not.toBeInstanceOf(SimKvProvider);
  });

  it('takes every sim setting from the one parsed config, its bus (NATS_URL) included', async () => {
    const config = loadConfig({
      ...env,
      TABMESH_SIM_LEDGER: 'nats',
      NATS_URL: server.url,
      ...server.adminEnv,
      TABMESH_SIM_FAIL_RATE: '1',
    });
    const c = (await createProvider({ ...config, TABMESH_SIM_PROVISION_MS: 0 })) as SimKvProvider;
    try {
      expect(c.failRate).toBe(1);
      expect(c.ledger.kv).toBeDefined();
      // Fails at once: the latency (0) and fail rate (1) are the config's, not defaults from elsewhere.
      const started = Date.now();
      await expect(
        c.provision({ org: 'o', task: uniqueId('t'), generation: 1, signal, onStep: () => undefined }),
      ).rejects.toMatchObject({ code: 'provision_failed' });
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await c.close();
    }
  });

  it('gives one sandbox per task generation across processes and counts it in both', async () => {
    const org = 'o';
    const task = uniqueId('t');
    const [x, y] = await Promise.all([
      a.provision({ org, task, generation: 1, signal, onStep: () => undefined }),
      b.provision({ org, task, generation: 1, signal, onStep: () => undefined }),
    ]);
    expect(y).toEqual(x);
    expect(await a.ledger.liveSandboxes(org, task)).toBe(1);
    expect(await b.sandboxAlive(x)).toBe(true);
  });

  it('returns the same live session for a repeated tab attempt and ends sessions with their sandbox', async () => {
    const org = 'o';
    const task = uniqueId('t');
    const box = await a.provision({ org, task, generation: 1, signal, onStep: () => undefined });
    const req = { org, task, tab: uniqueId('tab'), attempt: 1, agent: 'mock', model: null, signal };
    const [s1, s2] = await Promise.all([a.createSession(box, req), b.createSession(box, req)]);
    expect(s2.sessionId).toBe(s1.sessionId);
    expect(await b.ledger.liveSessionsOfTab(req.tab)).toBe(1);
    const other = await b.createSession(box, { ...req, attempt: 2 });
    expect(countLive(await a.ledger.snapshot()).sessionsByTab.get(req.tab)).toBe(2);
    await b.destroySandbox(box);
    expect(await a.sessionExists(box, other.sessionId)).toBe(false);
    expect(await a.ledger.liveSessionsOfTab(req.tab)).toBe(0);
    await expect(a.createSession(box, { ...req, attempt: 3 })).rejects.toMatchObject({ code: 'sandbox_gone' });
  });
});
