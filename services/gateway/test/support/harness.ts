import type { NatsConnection } from '@nats-io/transport-node';
import type { Claims } from '@tabmesh/auth';
import {
  encode,
  type ServerFrame,
  ServerFrameSchema,
  type TabRecord,
  type TaskRecord,
  TaskRecordSchema,
  tabKey,
  taskKey,
} from '@tabmesh/contracts';
import { nowIso, type TabStore, type TaskStore } from '@tabmesh/runtime';
import { lateBound, type NatsServer, setup, testToken, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import { type GatewayHandle, type GatewayOptions, startGateway } from '../../src/index.js';
import { TestWsClient } from './ws-client.js';

/** A nats-server, a gateway on ephemeral ports, and direct KV access to play the other services. */
export type Harness = {
  server: NatsServer;
  gateway: GatewayHandle;
  nc: NatsConnection;
  tabs: TabStore;
  tasks: TaskStore;
  /** Sends a bearer token for every org unless the request has its own Authorization header. */
  http: (path: string, init?: RequestInit) => Promise<Response>;
  /** Opens a socket with a token for every org (as `access_token`, the way a browser must). */
  ws: () => Promise<TestWsClient>;
  /** A token signed with the harness's secret. */
  mint: (orgs: Claims['orgs'], ttlSeconds?: number, sub?: string) => Promise<string>;
  stop: () => Promise<void>;
};

/**
 * One harness for the enclosing `describe`: started before its first test, stopped after its last.
 * What it returns stands for the harness once started (see `lateBound`).
 */
export function harnessForSuite(env: Record<string, string> = {}, options: GatewayOptions = {}): Harness {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(env, options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return lateBound(() => started, 'the suite harness');
}

/** testkit's `setup()` with only this gateway in-process (`options` are the test's knobs); the test plays the rest. */
export async function startHarness(env: Record<string, string> = {}, options: GatewayOptions = {}): Promise<Harness> {
  const mesh = await setup({
    services: { tabRegistry: 0, provisioner: 0, sessionCreator: 0, gateway: 1 },
    env,
    inProcess: { gateway: ({ config, logger }) => startGateway(config, logger, options) },
  });
  const urls = mesh.gatewayUrls();
  const clients: TestWsClient[] = [];
  return {
    server: mesh.server!,
    gateway: mesh.gateway,
    nc: mesh.nc,
    tabs: mesh.tabs,
    tasks: mesh.tasks,
    mint: async (orgs: Claims['orgs'], ttlSeconds = 3600, sub = 'gateway-test') => testToken({ orgs, ttlSeconds, sub }),
    http: (path, init) => {
      const headers = new Headers(init?.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${testToken()}`);
      return fetch(`${urls.http}${path}`, { ...init, headers });
    },
    ws: async () => {
      const c = await TestWsClient.connect(urls.ws);
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await mesh.stop();
    },
  };
}

/** A client subscribed to a task of its own, its (empty) snapshot already received. */
export async function subscribedClient(h: Harness): Promise<{ org: string; task: string; c: TestWsClient }> {
  const org = uniqueId('org');
  const task = uniqueId('task');
  const c = await h.ws();
  c.send({ op: 'subscribe', org, task });
  await c.waitForCount(1);
  return { org, task, c };
}

export { newTabId, tabRecord, taskRecord } from '@tabmesh/testkit';

/** Writes a new tab; returns the record and its revision. */
export async function putTab(tabs: TabStore, record: TabRecord): Promise<{ record: TabRecord; revision: number }> {
  const revision = await tabs.create(tabKey(record.org, record.task, record.id), record);
  if (revision === null) throw new Error('tab exists');
  return { record, revision };
}

/** Compare-and-set update, as the real services write. */
export async function updateTab(
  tabs: TabStore,
  current: { record: TabRecord; revision: number },
  change: Partial<TabRecord>,
): Promise<{ record: TabRecord; revision: number }> {
  const record = { ...current.record, ...change, updatedAt: nowIso() };
  const revision = await tabs.update(tabKey(record.org, record.task, record.id), record, current.revision);
  if (revision === null) throw new Error('CAS conflict');
  return { record, revision };
}

export async function putTask(tasks: TaskStore, record: TaskRecord): Promise<number> {
  return tasks.kv.put(taskKey(record.org, record.task), encode(TaskRecordSchema, record, 'task'));
}

/** Every frame received validates against the contract; returns them typed. */
export function validFrames(client: TestWsClient): ServerFrame[] {
  return client.frames.map((f) => {
    const r = ServerFrameSchema.safeParse(f);
    expect(r.success, `invalid frame ${JSON.stringify(f)}`).toBe(true);
    return r.data!;
  });
}

export async function nextFrames(client: TestWsClient, count: number, timeoutMs?: number): Promise<ServerFrame[]> {
  await client.waitForCount(count, timeoutMs);
  return validFrames(client).slice(0, count);
}
