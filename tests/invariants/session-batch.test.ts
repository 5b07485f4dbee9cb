import type { Msg, Subscription } from '@nats-io/transport-node';
import {
  decode,
  ErrorCode,
  encode,
  type SandboxRef,
  type SessionJob,
  SessionJobSchema,
  Subjects,
  sessionSubject,
  TabmeshError,
  TabState,
} from '@tabmesh/contracts';
import { type HarnessOptions, setup, type TabmeshMesh } from '@tabmesh/harness';
import { type SessionRequest, SimProvider } from '@tabmesh/providers';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The sim provider, except that the tabs named in `failOnce` fail their first session creation (retryably). */
class FailingOnceSim extends SimProvider {
  readonly failOnce = new Set<string>();
  readonly sessionCallsOfTab = new Map<string, number>();
  /** Session creations under way, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;

  override async createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    this.sessionCallsOfTab.set(req.tab, (this.sessionCallsOfTab.get(req.tab) ?? 0) + 1);
    if (this.failOnce.delete(req.tab)) {
      throw new TabmeshError(ErrorCode.SessionFailed, 'sim provider: failing this tab once', { retryable: true });
    }
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await super.createSession(sandbox, req);
    } finally {
      this.inFlight--;
    }
  }
}

/** A mesh over its own FailingOnceSim for the describe block that calls this, started and stopped with it. */
function meshPerBlock(
  sim: { provisionMs: number; sessionMs: number },
  opts: Omit<HarnessOptions<FailingOnceSim>, 'provider'>,
): { provider: FailingOnceSim; readonly mesh: TabmeshMesh<FailingOnceSim> } {
  const provider = new FailingOnceSim({ ...sim, failRate: 0 });
  let mesh: TabmeshMesh<FailingOnceSim> | undefined;
  beforeAll(async () => {
    mesh = await setup({ ...opts, provider });
  });
  afterAll(() => mesh?.stop());
  return {
    provider,
    get mesh() {
      if (!mesh) throw new Error('the mesh of this block has not started');
      return mesh;
    },
  };
}

// A provisioning that finishes hands every tab that waited for it to session creation in one job.
describe('session jobs of a task provisioned with tabs waiting', () => {
  const block = meshPerBlock(
    { provisionMs: 500, sessionMs: 150 },
    { services: { sessionCreator: 2 }, env: { TABMESH_RETRY_BASE_MS: '200' } },
  );
  const { provider } = block;

  /** Every session job published for the task from now on, decoded. */
  function recordJobs(org: string, task: string): { jobs: SessionJob[]; sub: Subscription } {
    const jobs: SessionJob[] = [];
    const sub = block.mesh.nc.subscribe(`session.${org}.${task}.>`, {
      callback: (_err, msg: Msg) => {
        jobs.push(decode(SessionJobSchema, msg.data, 'session job'));
      },
    });
    return { jobs, sub };
  }

  /** `n` tabs created at once on a fresh task: all wait for its provisioning. */
  async function waitingTabs(n: number) {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const recorded = recordJobs(org, task);
    await block.mesh.nc.flush();
    const tabs = await Promise.all(Array.from({ length: n }, () => block.mesh.create(org, task)));
    for (const t of tabs) expect(t.state).toBe(TabState.PendingProvision);
    return { org, task, tabs, ...recorded };
  }

  it('publishes one create_many job for all the waiting tabs, and each ends ready with one live session', async () => {
    const { org, task, tabs, jobs, sub } = await waitingTabs(6);
    const ready = await Promise.all(tabs.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready])));
    await sleep(300);
    sub.unsubscribe();
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job?.op).toBe('create_many');
    if (job?.op !== 'create_many') return;
    expect(job.tabs.map((t) => t.tab).sort()).toEqual(tabs.map((t) => t.id).sort());
    expect(job.tabs.every((t) => t.attempt === 1 && t.written?.tab.state === TabState.PendingSessionCreate)).toBe(true);
    for (const t of ready) {
      expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
      expect(block.mesh.provider.ledger.sessions.get(t.sessionId!)?.live).toBe(true);
    }
  });

  it('makes the other tabs of the job ready at once when one fails, and retries only that one', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all(Array.from({ length: 4 }, () => block.mesh.create(org, task)));
    const unlucky = tabs[1]!;
    provider.failOnce.add(unlucky.id);
    const others = tabs.filter((t) => t.id !== unlucky.id);
    const first = await Promise.all(others.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready])));
    const retried = await block.mesh.waitForState(org, task, unlucky.id, [TabState.Ready]);
    // The others did not wait for the retry (200 ms later) of the one that failed.
    const lastOther = Math.max(...first.map((t) => Date.parse(t.readyAt!)));
    expect(Date.parse(retried.readyAt!) - lastOther).toBeGreaterThanOrEqual(150);
    await sleep(300);
    expect(provider.sessionCallsOfTab.get(unlucky.id)).toBe(2);
    for (const t of first) {
      // Made once: the retry skipped the tabs already ready.
      expect(provider.sessionCallsOfTab.get(t.id)).toBe(1);
      expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
    }
    expect(block.mesh.provider.ledger.liveSessionsOfTab(unlucky.id)).toBe(1);
  });

  it('leaves no live session for a tab of the job closed while the sessions are made', async () => {
    const { org, task, tabs, sub } = await waitingTabs(5);
    sub.unsubscribe();
    // Session creation (150 ms) is under way once the tabs wait for it.
    await Promise.all(
      tabs.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.PendingSessionCreate, TabState.Ready])),
    );
    const closing = tabs.slice(0, 2);
    for (const t of closing) expect((await block.mesh.tabOp(Subjects.tabClose, org, task, t.id)).ok).toBe(true);
    const kept = await Promise.all(
      tabs.slice(2).map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready])),
    );
    await waitFor('the closed tabs without a live session', () =>
      closing.every((t) => block.mesh.provider.ledger.liveSessionsOfTab(t.id) === 0),
    );
    await sleep(400);
    for (const t of closing) {
      expect((await block.mesh.tab(org, task, t.id))?.state).toBe(TabState.Closed);
      expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(0);
    }
    for (const t of kept) expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
  });

  it('keeps one live session per tab when a create_many job is delivered several times (no dedupe)', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const warm = await block.mesh.create(org, task);
    await block.mesh.waitForState(org, task, warm.id, [TabState.Ready]);
    const tabs = await Promise.all(Array.from({ length: 4 }, () => block.mesh.create(org, task)));
    const calls = block.mesh.provider.ledger.sessionCalls;
    const job = encode(
      SessionJobSchema,
      { v: 1, op: 'create_many', org, task, tabs: tabs.map((t) => ({ tab: t.id, attempt: 1 })) },
      'job',
    );
    for (let i = 0; i < 3; i++)
      await block.mesh.bus.js.publish(sessionSubject(org, task, tabs[0]!.id), job, { msgID: `dup-many-${task}-${i}` });
    const ready = await Promise.all(tabs.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready])));
    await sleep(600); // let any copy still running finish and lose its compare-and-set
    expect(block.mesh.provider.ledger.sessionCalls - calls).toBeGreaterThan(tabs.length); // the copies really ran
    for (const t of ready) {
      expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
      expect(block.mesh.provider.ledger.sessions.get(t.sessionId!)?.live).toBe(true);
    }
  });

  it('destroys the sessions of tabs closed together, each close replying once its job is stored', async () => {
    const { org, task, tabs, jobs, sub } = await waitingTabs(5);
    await Promise.all(tabs.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready])));
    const together = tabs.slice(0, 4);
    const alone = tabs[4]!;
    const closes = await Promise.all(together.map((t) => block.mesh.tabOp(Subjects.tabClose, org, task, t.id)));
    expect(closes.every((c) => c.ok)).toBe(true);
    // Each close replied once its job was stored: the sessions go without another close.
    await waitFor('the sessions of the tabs closed together destroyed', () =>
      together.every((t) => block.mesh.provider.ledger.liveSessionsOfTab(t.id) === 0),
    );
    expect(block.mesh.provider.ledger.liveSessionsOfTab(alone.id)).toBe(1);
    expect((await block.mesh.tabOp(Subjects.tabClose, org, task, alone.id)).ok).toBe(true);
    await waitFor('the lone session destroyed', () => block.mesh.provider.ledger.liveSessionsOfTab(alone.id) === 0);
    await sleep(200);
    sub.unsubscribe();
    const destroys = jobs.filter((j) => j.op === 'destroy' || j.op === 'destroy_many');
    // Closes that arrive in one turn of the registry share a job; the bus may split them over turns.
    const destroyed = destroys.flatMap((j) => (j.op === 'destroy_many' ? j.sessions.map((x) => x.tab) : [j.tab]));
    expect(destroyed.sort()).toEqual(tabs.map((t) => t.id).sort());
    expect(destroys.at(-1)).toMatchObject({ op: 'destroy', tab: alone.id });
  });

  it('refuses a destroy_many job that names a tab twice or no session', () => {
    const base = { v: 1, op: 'destroy_many', org: 'o', task: 't' } as const;
    const tab = '01JF3Z6M8WQXK3V2B4N5P6R7S8';
    expect(SessionJobSchema.safeParse({ ...base, sessions: [] }).success).toBe(false);
    const twice = [
      { tab, sessionId: 'a' },
      { tab, sessionId: 'b' },
    ];
    expect(SessionJobSchema.safeParse({ ...base, sessions: twice }).success).toBe(false);
    expect(SessionJobSchema.safeParse({ ...base, sessions: [{ tab, sessionId: 'a' }] }).success).toBe(true);
  });

  it('refuses a create_many job that names a tab twice or no tab', () => {
    const base = { v: 1, op: 'create_many', org: 'o', task: 't' } as const;
    const tab = '01JF3Z6M8WQXK3V2B4N5P6R7S8';
    expect(SessionJobSchema.safeParse({ ...base, tabs: [] }).success).toBe(false);
    expect(
      SessionJobSchema.safeParse({
        ...base,
        tabs: [
          { tab, attempt: 1 },
          { tab, attempt: 2 },
        ],
      }).success,
    ).toBe(false);
    expect(SessionJobSchema.safeParse({ ...base, tabs: [{ tab, attempt: 1 }] }).success).toBe(true);
  });
});

describe('sessions of a create_many job under TABMESH_CONCURRENCY', () => {
  const block = meshPerBlock(
    { provisionMs: 300, sessionMs: 200 },
    { services: { sessionCreator: 1 }, env: { TABMESH_CONCURRENCY: '2' } },
  );
  const { provider } = block;

  it('makes no more sessions at once than the concurrency, however many tabs one job carries', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all(Array.from({ length: 6 }, () => block.mesh.create(org, task)));
    for (const t of tabs) expect(t.state).toBe(TabState.PendingProvision);
    await Promise.all(tabs.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready])));
    expect(provider.maxInFlight).toBe(2);
    for (const t of tabs) expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
  });
});

describe('the pending sweep and a create_many job', () => {
  // Sweeps every 100 ms, of tabs untouched for 300 ms: well inside the 1.5 s sessions.
  const block = meshPerBlock(
    { provisionMs: 300, sessionMs: 1500 },
    { env: { TABMESH_SWEEP_INTERVAL_MS: '100', TABMESH_SWEEP_AFTER_MS: '300' } },
  );
  const { provider } = block;

  it('leaves tabs whose sessions a job is making to that job: no second job, no second creation', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = await Promise.all(Array.from({ length: 4 }, () => block.mesh.create(org, task)));
    await Promise.all(tabs.map((t) => block.mesh.waitForState(org, task, t.id, [TabState.Ready], 10_000)));
    await sleep(300);
    for (const t of tabs) {
      expect(provider.sessionCallsOfTab.get(t.id)).toBe(1);
      expect(block.mesh.provider.ledger.liveSessionsOfTab(t.id)).toBe(1);
    }
  });
});
