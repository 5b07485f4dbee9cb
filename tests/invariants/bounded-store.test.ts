import {
  decode,
  ErrorCode,
  encode,
  type SandboxRef,
  SessionPersistNames,
  Streams,
  Subjects,
  sessionPersistKey,
  TabCreateRequestSchema,
  TabReplySchema,
  TabSlotsSchema,
  TabState,
  taskKey,
} from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { JetStreamSessionPersistDriver, type SessionRequest, SimProvider } from '@tabmesh/providers';
import { TypedBucket } from '@tabmesh/runtime';
import { type BusOps, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The sim provider, keeping a record and events per session in JetStream as sandbox-agent's SDK does. */
class PersistingSim extends SimProvider {
  constructor(
    settings: ConstructorParameters<typeof SimProvider>[0],
    private readonly persist: JetStreamSessionPersistDriver,
  ) {
    super(settings);
  }

  override async createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    const made = await super.createSession(sandbox, req);
    const id = made.sessionId;
    await this.persist.updateSession({
      id,
      agent: 'mock',
      lastConnectionId: 'c1',
      createdAt: Date.now(),
      sandboxId: sandbox.id,
    } as never);
    for (let i = 1; i <= 3; i++) {
      await this.persist.insertEvent(id, {
        id: `${id}-${i}`,
        eventIndex: i,
        sessionId: id,
        createdAt: Date.now(),
        connectionId: 'c1',
        sender: 'agent',
        payload: { i },
      } as never);
    }
    return made;
  }
}

/** Messages on one subject (stream info's `state.messages` counts the whole stream). */
const countOn = async (mesh: BusOps, stream: string, subject: string) =>
  (await mesh.bus.jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;

const subjectsOf = async (mesh: BusOps, stream: string, filter: string) =>
  Object.keys((await mesh.bus.jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {});

describe('a closed tab leaves nothing behind once purged', () => {
  let mesh: TabmeshMesh<PersistingSim>;
  beforeAll(async () => {
    mesh = await setup({
      env: { TABMESH_CLOSED_RETENTION_MS: '1500' },
      provider: async (nc) =>
        new PersistingSim(
          { provisionMs: 50, sessionMs: 20, failRate: 0 },
          await JetStreamSessionPersistDriver.open(nc),
        ),
    });
  });
  afterAll(() => mesh.stop());

  it('prunes its session record and events, request id, slot and purge marker; an open tab keeps its session', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const sessions = `KV_${SessionPersistNames.bucket}`;
    const sessionSubject = (id: string) => `$KV.${SessionPersistNames.bucket}.${sessionPersistKey(id)}`;
    const eventsSubject = (id: string) => `${SessionPersistNames.subjectPrefix}.${sessionPersistKey(id)}`;

    const gone = await mesh.create(org, task, { clientRequestId: 'click-1' });
    const kept = await mesh.create(org, task, { clientRequestId: 'click-2' });
    const goneReady = await mesh.waitForState(org, task, gone.id, [TabState.Ready]);
    const keptReady = await mesh.waitForState(org, task, kept.id, [TabState.Ready]);
    // What the lifecycle stored, so the checks below can fail.
    for (const t of [goneReady, keptReady]) {
      expect(await subjectsOf(mesh, sessions, sessionSubject(t.sessionId!))).toHaveLength(1);
      expect(await countOn(mesh, SessionPersistNames.stream, eventsSubject(t.sessionId!))).toBe(3);
    }
    expect(await subjectsOf(mesh, 'KV_tab-requests', `$KV.tab-requests.${org}.${task}.*`)).toHaveLength(2);

    await mesh.tabOp(Subjects.tabClose, org, task, gone.id);
    // Purged, then the purge marker erased: not a single entry of the tab's key is left.
    await waitFor(
      'closed tab and its marker gone',
      async () => (await subjectsOf(mesh, 'KV_tabs', `$KV.tabs.${org}.${task}.${gone.id}`)).length === 0,
      20_000,
    );

    expect(await subjectsOf(mesh, sessions, sessionSubject(goneReady.sessionId!))).toEqual([]);
    expect(await subjectsOf(mesh, SessionPersistNames.stream, eventsSubject(goneReady.sessionId!))).toEqual([]);
    expect(await subjectsOf(mesh, 'KV_tab-requests', `$KV.tab-requests.${org}.${task}.*`)).toHaveLength(1);
    const slots = new TypedBucket(mesh.bus.tabSlots, TabSlotsSchema, 'tab slots');
    expect((await slots.get(taskKey(org, task)))!.value.tabs).toEqual([kept.id]);
    // The open tab's session is untouched.
    expect(await subjectsOf(mesh, sessions, sessionSubject(keptReady.sessionId!))).toHaveLength(1);
    expect(await countOn(mesh, SessionPersistNames.stream, eventsSubject(keptReady.sessionId!))).toBe(3);
    expect((await mesh.tab(org, task, kept.id))?.state).toBe(TabState.Ready);
  });
});

describe('a full work queue', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    // No provisioner: provision jobs stay queued, and the queue holds one.
    // Short retention: the refused tab's purge marker (left for watchers) is erased within seconds.
    mesh = await setup({
      services: { provisioner: 0 },
      env: { TABMESH_PROVISION_QUEUE_MAX_MSGS: '1', TABMESH_CLOSED_RETENTION_MS: '1500' },
    });
  });
  afterAll(() => mesh.stop());

  it('fails tab.create with a clear error, drops no queued job, and stores nothing of the refused tab', async () => {
    const org = uniqueId('org');
    const first = await mesh.create(org, uniqueId('task'));
    expect(first.state).toBe(TabState.PendingProvision);
    const task = uniqueId('task');
    const payload = encode(TabCreateRequestSchema, { v: 1, org, task, clientRequestId: 'click' }, 'create');
    const reply = decode(
      TabReplySchema,
      (await mesh.nc.request(Subjects.tabCreate, payload, { timeout: 10_000 })).data,
      'reply',
    );
    expect(reply).toMatchObject({ ok: false, error: { code: ErrorCode.Unavailable, retryable: true } });
    if (reply.ok) throw new Error('unreachable');
    expect(reply.error.message).toMatch(/work queue for provision is full/);

    // The queued job is still there (discard new), and the refused create left no tab, claim or slot.
    expect((await mesh.bus.jsm.streams.info(Streams.provision.name)).state.messages).toBe(1);
    expect(await mesh.tabs.listTask(org, task)).toEqual([]);
    await waitFor(
      'purge marker erased',
      async () => (await subjectsOf(mesh, 'KV_tabs', `$KV.tabs.${org}.${task}.*`)).length === 0,
      10_000,
    );
    expect(await subjectsOf(mesh, 'KV_tab-requests', `$KV.tab-requests.${org}.${task}.*`)).toHaveLength(0);
    const slots = new TypedBucket(mesh.bus.tabSlots, TabSlotsSchema, 'tab slots');
    expect((await slots.get(taskKey(org, task)))?.value.tabs ?? []).toEqual([]);

    // Once a worker drains the queue, the same create goes through and both tabs end ready.
    await mesh.start('provisioner');
    await mesh.waitForState(org, first.task, first.id, [TabState.Ready]);
    const again = await waitFor('create accepted', async () => {
      const r = decode(
        TabReplySchema,
        (await mesh.nc.request(Subjects.tabCreate, payload, { timeout: 10_000 })).data,
        'reply',
      );
      return r.ok ? r.tab : undefined;
    });
    await mesh.waitForState(org, task, again.id, [TabState.Ready]);
  });
});
