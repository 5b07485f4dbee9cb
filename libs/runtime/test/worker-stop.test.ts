import { SessionJobSchema, Streams } from '@tabmesh/contracts';
import { NatsServer, testConfig } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, connectNats, createLogger, ensureBus, JobWorker, natsAuthOf } from '../src/index.js';

const logger = createLogger('worker-test', 'silent');

// A start that fails after the worker started (the ops port is taken, say) stops it at once: that
// stop must not wait for a pull request that began after it.
describe('JobWorker stop right after start', () => {
  let server: NatsServer;
  let bus: Bus;
  beforeAll(async () => {
    server = await NatsServer.start();
    const config = testConfig(server.url, server.adminEnv);
    bus = await ensureBus(await connectNats(config.NATS_URL, 'worker-test', logger, natsAuthOf(config)), config);
  });
  afterAll(async () => {
    await bus.nc.close();
    await server.stop();
  });

  it('returns promptly whatever point of its first pull the worker is at', async () => {
    const took: number[] = [];
    for (let ticks = 0; ticks < 24; ticks += 3) {
      const worker = new JobWorker({
        js: bus.js,
        stream: Streams.sessions.name,
        consumer: Streams.sessions.consumer,
        schema: SessionJobSchema,
        concurrency: 4,
        ackWaitMs: 30_000,
        maxDeliver: 5,
        retryBaseMs: 1000,
        drainTimeoutMs: 10_000,
        logger,
        handle: async () => undefined,
        onFailure: async () => undefined,
      });
      worker.start();
      for (let i = 0; i < ticks; i++) await new Promise((r) => setImmediate(r));
      const start = Date.now();
      const result = await Promise.race([worker.stop(), new Promise((r) => setTimeout(() => r('hung'), 5000))]);
      expect(result).toEqual({ finished: 0, handedBack: 0 });
      took.push(Date.now() - start);
    }
    // Well under the 2 s a pull request stays open.
    expect(Math.max(...took)).toBeLessThan(1500);
  });
});
