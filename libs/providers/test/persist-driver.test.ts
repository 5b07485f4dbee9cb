import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { SandboxRef } from '@tabmesh/contracts';
import { NatsServer, uniqueId, waitFor } from '@tabmesh/testkit';
import type { SessionEvent, SessionRecord } from 'sandbox-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamSessionPersistDriver, type SandboxProvider, SessionEventIndexConflictError } from '../src/index.js';
import { localProvider, sessionRequest, tempStateDir } from './local-helpers.js';

let server: NatsServer;
let ncA: NatsConnection;
let ncB: NatsConnection;

const record = (id: string, createdAt = Date.now()): SessionRecord => ({
  id,
  agent: 'mock',
  agentSessionId: `agent-${id}`,
  lastConnectionId: 'conn-1',
  createdAt,
  sessionInit: { cwd: '/tmp', mcpServers: [] },
  modes: null,
});
const event = (sessionId: string, eventIndex: number): SessionEvent => ({
  id: uniqueId('ev'),
  eventIndex,
  sessionId,
  createdAt: Date.now(),
  connectionId: 'conn-1',
  sender: 'client',
  payload: { jsonrpc: '2.0', id: eventIndex, method: 'session/prompt', params: { n: eventIndex } },
});

beforeAll(async () => {
  server = await NatsServer.start();
  ncA = await connect({ servers: server.url, ...server.adminAuth });
  ncB = await connect({ servers: server.url, ...server.adminAuth });
});
afterAll(async () => {
  await ncA?.close();
  await ncB?.close();
  await server?.stop();
});

describe('JetStream session persist driver', () => {
  it('records written through one connection are read through another', async () => {
    const a = await JetStreamSessionPersistDriver.open(ncA);
    const b = await JetStreamSessionPersistDriver.open(ncB);
    const id = uniqueId('s');
    await a.updateSession(record(id));
    expect(await b.getSession(id)).toMatchObject({ id, agent: 'mock', agentSessionId: `agent-${id}` });
    await b.updateSession({ ...record(id), destroyedAt: 42 });
    expect((await a.getSession(id))?.destroyedAt).toBe(42);
    expect(await a.getSession('never-written')).toBeUndefined();
  });

  it('pages sessions by creation time and events in index order', async () => {
    const d = await JetStreamSessionPersistDriver.open(ncA, {
      bucket: uniqueId('sessions'),
      stream: uniqueId('EV'),
      subjectPrefix: uniqueId('ev'),
    });
    for (let i = 0; i < 5; i++) await d.updateSession(record(`s${i}`, 1000 + i));
    const first = await d.listSessions({ limit: 3 });
    expect(first.items.map((r) => r.id)).toEqual(['s0', 's1', 's2']);
    const rest = await d.listSessions({ limit: 3, cursor: first.nextCursor! });
    expect(rest.items.map((r) => r.id)).toEqual(['s3', 's4']);
    expect(rest.nextCursor).toBeUndefined();

    for (let i = 1; i <= 5; i++) await d.insertEvent('s0', event('s0', i));
    await d.insertEvent('s1', event('s1', 1));
    const page1 = await d.listEvents({ sessionId: 's0', limit: 2 });
    expect(page1.items.map((e) => e.eventIndex)).toEqual([1, 2]);
    const page2 = await d.listEvents({ sessionId: 's0', cursor: page1.nextCursor!, limit: 10 });
    expect(page2.items.map((e) => e.eventIndex)).toEqual([3, 4, 5]);
    expect(page2.nextCursor).toBeUndefined();
    expect((await d.listEvents({ sessionId: 'none' })).items).toEqual([]);
  });

  it('reports a reused event index as the conflict the SDK retries on', async () => {
    const d = await JetStreamSessionPersistDriver.open(ncA);
    const id = uniqueId('s');
    await d.insertEvent(id, event(id, 1));
    const err = await d.insertEvent(id, event(id, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionEventIndexConflictError);
    expect((err as Error).message).toMatch(/UNIQUE constraint failed: .*session_id, .*event_index/);
  });

  it('rejects a record that is not a session record', async () => {
    const d = await JetStreamSessionPersistDriver.open(ncA);
    await expect(d.updateSession({ id: uniqueId('s') } as unknown as SessionRecord)).rejects.toThrow();
  });

  it('the SDK keeps a local session through it: created by one provider, destroyed by another', async () => {
    const state = tempStateDir();
    const persistA = await JetStreamSessionPersistDriver.open(ncA);
    const persistB = await JetStreamSessionPersistDriver.open(ncB);
    const creator: SandboxProvider = localProvider(state.dir, { persist: persistA });
    const closer: SandboxProvider = localProvider(state.dir, { persist: persistB });
    const signal = new AbortController().signal;
    let ref: SandboxRef | undefined;
    try {
      ref = await creator.provision({ org: 'persist', task: uniqueId('t'), generation: 1, signal, onStep: () => {} });
      const { sessionId } = await creator.createSession(ref, sessionRequest('persist'));
      const stored = await persistB.getSession(sessionId);
      expect(stored).toMatchObject({ id: sessionId, agent: 'mock' });
      expect(stored?.destroyedAt).toBeUndefined();
      // The ACP traffic of the session (session/new and its answer) went to the event stream.
      const events = await waitFor('session events', async () => {
        const page = await persistB.listEvents({ sessionId });
        return page.items.length > 0 ? page.items : undefined;
      });
      expect(events.every((e) => e.sessionId === sessionId)).toBe(true);
      await closer.destroySession(ref, sessionId);
      expect(await creator.sessionExists(ref, sessionId)).toBe(false);
      expect((await persistA.getSession(sessionId))?.destroyedAt).toBeTypeOf('number');
    } finally {
      if (ref) await creator.destroySandbox(ref);
      state.cleanup();
    }
  });
  // Last: the shared connections reconnect after it.
  it('keeps records and events across a nats-server restart', async () => {
    const id = uniqueId('s');
    const before = await JetStreamSessionPersistDriver.open(ncA);
    await before.updateSession(record(id));
    await before.insertEvent(id, event(id, 1));
    await server.restart();
    const nc = await connect({ servers: server.url, ...server.adminAuth });
    try {
      const after = await JetStreamSessionPersistDriver.open(nc);
      expect((await after.getSession(id))?.id).toBe(id);
      expect((await after.listEvents({ sessionId: id })).items.map((e) => e.eventIndex)).toEqual([1]);
    } finally {
      await nc.close();
    }
  });
});
