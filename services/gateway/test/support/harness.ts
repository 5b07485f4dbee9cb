import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mintToken, type Claims } from '@tabmesh/auth';
import { ServerFrameSchema, TabState, TaskProvisioning, TaskRecordSchema, encode, tabKey, taskKey, type ServerFrame, type TabRecord, type TaskRecord } from '@tabmesh/contracts';
import { TabStore, TaskStore, createLogger, ensureBus, nowIso } from '@tabmesh/runtime';
import { NatsServer, testConfig } from '@tabmesh/testkit';
import { expect } from 'vitest';
import { startGateway, type GatewayHandle, type GatewayOptions } from '../../src/index.js';
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

/** The HS256 secret every harness gateway verifies with (tests pass TABMESH_JWT_SECRET to override). */
export const TestJwtSecret = 'tabmesh-gateway-tests-secret-0123456789abcdef';

export async function startHarness(env: Record<string, string> = {}, options: GatewayOptions = {}): Promise<Harness> {
  const server = await NatsServer.start();
  const config = testConfig(server.url, { TABMESH_JWT_SECRET: TestJwtSecret, ...env });
  const mint = (orgs: Claims['orgs'], ttlSeconds = 3600, sub = 'gateway-test') =>
    mintToken({ secret: config.TABMESH_JWT_SECRET ?? TestJwtSecret, sub, orgs, ttlSeconds });
  const token = await mint(['*']);
  const gateway = await startGateway(config, createLogger('gateway', config.LOG_LEVEL), options);
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const bus = await ensureBus(nc, config);
  const clients: TestWsClient[] = [];
  return {
    server,
    gateway,
    nc,
    tabs: new TabStore(bus.tabs),
    tasks: new TaskStore(bus.tasks),
    mint,
    http: (path, init) => {
      const headers = new Headers(init?.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return fetch(`http://127.0.0.1:${gateway.httpPort}${path}`, { ...init, headers });
    },
    ws: async () => {
      const c = await TestWsClient.connect(`ws://127.0.0.1:${gateway.wsPort}/v1/ws?access_token=${token}`);
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await gateway.stop();
      await nc.close();
      await server.stop();
    },
  };
}

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let tabCounter = 0;

/** A valid, increasing ULID-shaped tab id. */
/** Process-wide prefix, so ids from one run sort by creation order (the counter), never by the clock. */
const idPrefix = encodeCrockford(Date.now(), 10);

function encodeCrockford(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = crockford[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/** ULID-shaped ids that sort in the order they were made. */
export function newTabId(): string {
  return `${idPrefix}${encodeCrockford(++tabCounter, 16)}`;
}

export function tabRecord(org: string, task: string, over: Partial<TabRecord> = {}): TabRecord {
  const now = nowIso();
  return {
    v: 1,
    id: newTabId(),
    org,
    task,
    state: TabState.PendingProvision,
    title: 'a tab',
    agent: 'mock',
    model: null,
    sessionId: null,
    sandboxId: null,
    unread: false,
    progress: 'Waiting for a sandbox',
    step: null,
    error: null,
    attempt: 1,
    clientRequestId: null,
    createdAt: now,
    updatedAt: now,
    readyAt: null,
    closedAt: null,
    ...over,
  };
}

export function taskRecord(org: string, task: string, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    v: 1,
    org,
    task,
    state: TaskProvisioning.Provisioning,
    generation: 1,
    step: null,
    progress: 'Preparing environment',
    sandbox: null,
    error: null,
    updatedAt: nowIso(),
    provisionedAt: null,
    ...over,
  };
}

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
