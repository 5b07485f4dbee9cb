import { createServer, type Server } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsServer, testConfig, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, createLogger, startService } from '../src/index.js';

const logger = createLogger('lifecycle-test', 'silent');
const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);

describe('service lifecycle', () => {
  let server: NatsServer;
  let config: Config;
  beforeAll(async () => {
    server = await NatsServer.start();
    config = testConfig(server.url, server.adminEnv);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('serves healthz, readyz and metrics once up; stop turns readyz 503 first, then stops the steps in reverse order, then the connection', async () => {
    const order: string[] = [];
    let nc: NatsConnection | null = null;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const svc = await startService({
      name: 'probe',
      config,
      logger,
      start: async ({ bus, onStop }) => {
        nc = bus.nc;
        onStop(async () => {
          order.push(`first (connection open: ${!bus.nc.isClosed()})`);
        });
        onStop(async () => {
          order.push('second');
          await held;
          return { finished: 3 };
        });
        return { handle: { answer: 42 }, inFlight: () => 3 };
      },
    });
    expect(svc.answer).toBe(42);
    const port = svc.opsPort!;
    expect(port).toBeGreaterThan(0);

    expect((await get(port, '/healthz')).status).toBe(200);
    const ready = await get(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, nats: true, bus: true, serving: true, draining: false });
    const metrics = await (await get(port, '/metrics')).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total\{service="probe"\} /m);
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes\{service="probe"\} /m);
    expect((await get(port, '/nope')).status).toBe(404);

    const stopping = svc.stop();
    expect(svc.stop()).toBe(stopping);
    // Draining: still answering probes, but not ready, while the part stops.
    const draining = await get(port, '/readyz');
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ ready: false, draining: true, nats: true });
    expect((await get(port, '/healthz')).status).toBe(200);
    expect(order).toEqual(['second']);

    release();
    await stopping;
    expect(order).toEqual(['second', 'first (connection open: true)']);
    expect(nc!.isClosed()).toBe(true);
    // The ops listener goes last.
    await expect(get(port, '/healthz')).rejects.toThrow();
    await svc.stop();
    expect(order).toHaveLength(2);
  });

  it('readyz follows the connection: 503 while nats-server is down, 200 again after it is back', async () => {
    const own = await NatsServer.start();
    const svc = await startService({
      name: 'probe',
      config: testConfig(own.url, own.adminEnv),
      logger,
      start: async () => ({ handle: {} }),
    });
    try {
      const status = async () => (await get(svc.opsPort!, '/readyz')).status;
      expect(await status()).toBe(200);
      await own.kill('SIGKILL');
      await waitFor('readyz 503', async () => (await status()) === 503);
      expect(svc.readiness()).toMatchObject({ ready: false, nats: false, draining: false });
      await own.restart();
      await waitFor('readyz 200', async () => (await status()) === 200, 20_000);
    } finally {
      await svc.stop();
      await own.stop();
    }
  });

  it('a part that throws during start: what it started is stopped, the connection closed, the error rethrown', async () => {
    const stopped: string[] = [];
    let nc: NatsConnection | null = null;
    const failure = new Error('no provider');
    await expect(
      startService({
        name: 'probe',
        config,
        logger,
        start: async ({ bus, onStop }) => {
          nc = bus.nc;
          onStop(() => void stopped.push('index'));
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
    expect(stopped).toEqual(['index']);
    expect(nc!.isClosed()).toBe(true);
  });

  it('an ops port already taken fails the start and undoes the part and the connection', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, r));
    const port = (blocker.address() as { port: number }).port;
    const stopped: string[] = [];
    let nc: NatsConnection | null = null;
    try {
      await expect(
        startService({
          name: 'probe',
          config: { ...config, TABMESH_OPS_PORT: port },
          logger,
          start: async ({ bus, onStop }) => {
            nc = bus.nc;
            onStop(() => void stopped.push('endpoints'));
            return { handle: {} };
          },
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(stopped).toEqual(['endpoints']);
      expect(nc!.isClosed()).toBe(true);
    } finally {
      blocker.close();
    }
  });

  it('a service that serves the ops routes itself gets no listener, and its ports are announced as given', async () => {
    const svc = await startService({
      name: 'probe',
      config,
      logger,
      opsListener: false,
      start: async () => ({ handle: {}, ports: { http: 1234 } }),
    });
    expect(svc.opsPort).toBeNull();
    expect(svc.readiness().ready).toBe(true);
    await svc.stop();
    expect(svc.readiness()).toMatchObject({ ready: false, draining: true });
  });
});
