import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects, TabState, UnavailableError } from '@tabmesh/contracts';
import type { InProcessRequests } from '@tabmesh/runtime';
import { NatsServer, tabRecord } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusClient } from '../src/bus-client.js';
import { BadReplyError } from '../src/errors.js';

const tab = { ...tabRecord('o', 't'), revision: 1 };

/** A registry in the process that answers with `reply` (or never), counting what it is asked. */
function registryAnswering(reply: (request: unknown) => Promise<unknown>, serving = true) {
  const asked: string[] = [];
  const inProcess: InProcessRequests = {
    serves: () => serving,
    request: (subject, request) => {
      asked.push(subject);
      return reply(request);
    },
  };
  return { inProcess, asked };
}

// No tab-registry on this bus: a request that goes there finds no responder.
describe('the gateway asking a tab-registry in its process', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url, ...server.adminAuth });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  const create = { v: 1 as const, org: 'o', task: 't', title: 'x' };

  it('uses it while it serves, and checks its reply as one from the bus', async () => {
    const { inProcess, asked } = registryAnswering(async () => ({ v: 1, ok: true, created: true, tab }));
    const client = new BusClient(nc, 1000, inProcess);
    const { tab: got, created } = await client.createTab(create, 'corr');
    expect(created).toBe(true);
    expect(got).toMatchObject({ id: tab.id, state: TabState.PendingProvision });
    expect(asked).toEqual([Subjects.tabCreate]);
  });

  it('rebuilds an {ok:false} reply into the typed error', async () => {
    const { inProcess } = registryAnswering(async () => ({
      v: 1,
      ok: false,
      error: { code: 'limit_reached', message: 'too many tabs', retryable: true },
    }));
    await expect(new BusClient(nc, 1000, inProcess).createTab(create, 'corr')).rejects.toMatchObject({
      code: 'limit_reached',
      message: 'too many tabs',
    });
  });

  it('refuses a reply its contract rejects', async () => {
    const { inProcess } = registryAnswering(async () => ({ v: 1, ok: true, tab: { id: 'not a tab' } }));
    await expect(new BusClient(nc, 1000, inProcess).createTab(create, 'corr')).rejects.toBeInstanceOf(BadReplyError);
  });

  it('is unavailable when it does not answer in time', async () => {
    const { inProcess } = registryAnswering(() => new Promise(() => undefined));
    const err = await new BusClient(nc, 200, inProcess).createTab(create, 'corr').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('timeout after 200 ms');
  });

  it('goes over the bus once it stops serving', async () => {
    const { inProcess, asked } = registryAnswering(async () => ({ v: 1, ok: true, created: true, tab }), false);
    const err = await new BusClient(nc, 1000, inProcess).createTab(create, 'corr').catch((e: unknown) => e);
    expect(asked).toEqual([]);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`${Subjects.tabCreate}: tab-registry did not answer`);
  });
});
