import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, ensureBus, loadConfig, SandboxSlots } from '../src/index.js';

describe('sandbox slots (one compare-and-set key)', () => {
  let server: NatsServer;
  let conns: NatsConnection[];
  let buses: Bus[];
  beforeAll(async () => {
    server = await NatsServer.start();
    conns = await Promise.all(Array.from({ length: 4 }, () => connect({ servers: server.url, ...server.adminAuth })));
    buses = await Promise.all(conns.map((nc) => ensureBus(nc, loadConfig({ NATS_URL: server.url }))));
  });
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await server.stop();
  });

  it('never grants more than the cap to 24 racing acquirers on four connections', async () => {
    const slots = buses.map((b) => new SandboxSlots(b.sandboxSlots, 3));
    const got = await Promise.all(
      Array.from({ length: 24 }, (_, i) => slots[i % 4]!.acquire({ org: 'o', task: `t${i}`, generation: 1 })),
    );
    expect(got.filter(Boolean)).toHaveLength(3);
    expect(await slots[0]!.holders()).toHaveLength(3);
    // A redelivered job of a holder's generation keeps its slot; another generation does not get one.
    const holder = (await slots[0]!.holders())[0]!;
    expect(await slots[1]!.acquire(holder)).toBe(true);
    expect(await slots[1]!.acquire({ ...holder, generation: holder.generation + 1 })).toBe(false);
    expect(await slots[2]!.releaseGeneration(holder)).toBe(1);
    expect(await slots[3]!.acquire({ org: 'o', task: 'late', generation: 1 })).toBe(true);
    expect(await slots[0]!.holders()).toHaveLength(3);
  });

  it('wakes a waiter when a slot is released', async () => {
    const a = new SandboxSlots(buses[0]!.sandboxSlots, 3);
    const b = new SandboxSlots(buses[1]!.sandboxSlots, 3, { pollMs: 50 });
    const waited = Date.now();
    const woke = b.waitForRoom(new AbortController().signal, 10_000);
    setTimeout(() => void a.release((h) => h.task === 'late'), 200);
    await woke;
    expect(Date.now() - waited).toBeLessThan(5000);
    b.stop();
  });
});

describe('provider defaults', () => {
  it.each([
    [{}, { TABMESH_MAX_SANDBOXES: 32, TABMESH_CONCURRENCY: 8 }],
    [
      { TABMESH_PROVIDER: 'local', TABMESH_MAX_SANDBOXES: '3' },
      { TABMESH_MAX_SANDBOXES: 3, TABMESH_CONCURRENCY: 3 },
    ],
    [
      { TABMESH_PROVIDER: 'local', TABMESH_MAX_SANDBOXES: '3', TABMESH_CONCURRENCY: '5' },
      { TABMESH_MAX_SANDBOXES: 3, TABMESH_CONCURRENCY: 5 },
    ],
    [
      { TABMESH_PROVIDER: 'local', TABMESH_MAX_SANDBOXES: '0' },
      { TABMESH_MAX_SANDBOXES: 0, TABMESH_CONCURRENCY: 8 },
    ],
    [{ TABMESH_PROVIDER: 'sim' }, { TABMESH_MAX_SANDBOXES: 0, TABMESH_CONCURRENCY: 256 }],
    [
      { TABMESH_PROVIDER: 'sim', TABMESH_CONCURRENCY: '4' },
      { TABMESH_MAX_SANDBOXES: 0, TABMESH_CONCURRENCY: 4 },
    ],
    [
      { TABMESH_PROVIDER: 'daytona', TABMESH_MAX_SANDBOXES: '10' },
      { TABMESH_MAX_SANDBOXES: 10, TABMESH_CONCURRENCY: 256 },
    ],
  ])('%o -> %o', (env, want) => {
    const config = loadConfig(env);
    expect({
      TABMESH_MAX_SANDBOXES: config.TABMESH_MAX_SANDBOXES,
      TABMESH_CONCURRENCY: config.TABMESH_CONCURRENCY,
    }).toEqual(want);
  });

  it('reads the idle and watch defaults of DESIGN.md', () => {
    const config = loadConfig({});
    expect(config.TABMESH_SANDBOX_IDLE_MS).toBe(900_000);
    expect(config.TABMESH_SANDBOX_WATCH_MS).toBe(10_000);
  });
});
