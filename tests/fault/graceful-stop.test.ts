import { Streams, type TabRecord, TabState } from '@tabmesh/contracts';
import { ServiceName, type ServiceProcess, sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { type FaultMesh, faultMeshPerTest } from '../src/index.js';

const sessions = () => [Streams.sessions.name, Streams.sessions.consumer] as const;

async function createTabs(mesh: FaultMesh, org: string, task: string, n: number): Promise<TabRecord[]> {
  const out: TabRecord[] = [];
  for (let i = 0; i < n; i++) {
    const c = await mesh.tryCreate(org, task);
    if (!c.ok) throw new Error(c.error);
    out.push(c.tab);
  }
  return out;
}

/** Starts a task's sandbox and waits for it, so later tabs go straight to session creation. */
async function provisionTask(mesh: FaultMesh, org: string, task: string): Promise<void> {
  const [first] = await createTabs(mesh, org, task, 1);
  await mesh.waitForState(org, task, first!.id, [TabState.Ready], 60_000);
}

// DESIGN invariant 8: on SIGTERM a worker stops pulling, finishes or hands back its in-flight jobs
// within the drain timeout, then drains its connection.
describe('graceful stop of a worker (SIGTERM)', () => {
  const fixture = faultMeshPerTest();
  let mesh: FaultMesh;

  it('finishes in-flight jobs within the drain timeout, logs drain start/end with the counts, takes no new job, exits 0', async () => {
    // 'tab ready' is a debug line: the lines read below tell which worker made the session.
    mesh = await fixture.start({
      TABMESH_SIM_SESSION_MS: '2500',
      TABMESH_DRAIN_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'debug',
    });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    const worker = await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    await provisionTask(mesh, org, 'main');
    // Two jobs in flight leave six of eight slots free: the open pull request could take six more.
    const inFlight = await createTabs(mesh, org, 'main', 2);
    await waitFor(
      'two session jobs in flight',
      async () => (await mesh.consumer(...sessions())).ackPending === 2,
      30_000,
    );

    worker.signal('SIGTERM');
    const start = await worker.waitForLog('drain start', (l) => l.msg === 'drain start', 10_000);
    expect(start.inFlight).toBe(2);
    // A job that arrives while it drains is not taken.
    const [late] = await createTabs(mesh, org, 'main', 1);
    const exit = await worker.waitForExit();
    expect(exit.code).toBe(0);
    const end = worker.lines('drain end')[0]!;
    expect(end).toMatchObject({ finished: 2, handedBack: 0 });
    const order = worker.logs.map((l) => l.msg);
    expect(order.indexOf('drain start')).toBeLessThan(order.indexOf('drain end'));
    for (const t of inFlight) expect((await mesh.tab(org, 'main', t.id))!.state).toBe(TabState.Ready);
    expect(worker.lines('tab ready').map((l) => l.tab)).not.toContain(late!.id);
    expect((await mesh.tab(org, 'main', late!.id))!.state).toBe(TabState.PendingSessionCreate);

    const next = await mesh.spawn(ServiceName.SessionCreator);
    await mesh.waitForState(org, 'main', late!.id, [TabState.Ready], 30_000);
    // Handed back at most once by the draining worker: not bounced until its deliveries ran out.
    // Its log line follows the ready write (after the task check), so it is waited for, not read at once.
    const taken = await next.waitForLog('tab ready', (l) => l.msg === 'tab ready' && l.tab === late!.id, 10_000);
    expect(taken.delivery).toBeLessThanOrEqual(2);
  });

  it('hands back what is still running at the drain timeout, and another worker takes it at once, not after the ack wait', async () => {
    // 'tab ready' is a debug line: the lines read below tell which worker made each session.
    mesh = await fixture.start({
      TABMESH_SIM_SESSION_MS: '6000',
      TABMESH_DRAIN_TIMEOUT_MS: '1000',
      TABMESH_ACK_WAIT_MS: '60000',
      LOG_LEVEL: 'debug',
    });
    await mesh.spawn(ServiceName.TabRegistry);
    await mesh.spawn(ServiceName.Provisioner);
    const first = await mesh.spawn(ServiceName.SessionCreator);
    const org = uniqueId('org');
    await provisionTask(mesh, org, 'main');
    const tabs = await createTabs(mesh, org, 'main', 4);
    await waitFor(
      'four session jobs in flight',
      async () => (await mesh.consumer(...sessions())).ackPending === 4,
      30_000,
    );
    const second = await mesh.spawn(ServiceName.SessionCreator);

    const stoppedAt = Date.now();
    const exit = await first.stop();
    expect(exit.code).toBe(0);
    expect(first.lines('drain start')[0]).toMatchObject({ inFlight: 4 });
    expect(first.lines('drain end')[0]).toMatchObject({ finished: 0, handedBack: 4 });
    for (const t of tabs) await mesh.waitForState(org, 'main', t.id, [TabState.Ready], 50_000);
    // 6 s of session work after the hand-back, well inside the 60 s ack wait.
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    // A line may reach this process after the tab's KV write: wait for each instead of reading at once.
    const readyLines = await Promise.all(
      tabs.map((t) => second.waitForLog(`tab ready ${t.id}`, (l) => l.msg === 'tab ready' && l.tab === t.id, 10_000)),
    );
    expect(readyLines.map((l) => l.delivery)).toEqual([2, 2, 2, 2]);
    const live = await mesh.live();
    for (const t of tabs) expect(live.sessionsByTab.get(t.id)).toBe(1);
  });

  it('a rolling restart of provisioners and session-creators under load loses no job and holds none for an ack wait', async () => {
    mesh = await fixture.start({
      TABMESH_SIM_PROVISION_MS: '1500',
      TABMESH_SIM_SESSION_MS: '800',
      TABMESH_DRAIN_TIMEOUT_MS: '1000',
      TABMESH_ACK_WAIT_MS: '60000',
    });
    await mesh.spawn(ServiceName.TabRegistry);
    const workers: ServiceProcess[] = [];
    for (const s of [
      ServiceName.Provisioner,
      ServiceName.Provisioner,
      ServiceName.SessionCreator,
      ServiceName.SessionCreator,
    ]) {
      workers.push(await mesh.spawn(s));
    }
    const org = uniqueId('org');
    let loading = true;
    let n = 0;
    const load = (async () => {
      while (loading) {
        const c = await mesh.tryCreate(org, `t${Math.floor(n / 3)}`);
        if (!c.ok) throw new Error(c.error);
        n++;
        await sleep(100);
      }
    })();

    await sleep(1500);
    const stopped: ServiceProcess[] = [];
    for (const old of workers) {
      // Replace one process at a time, as a rolling deployment does.
      const exit = await old.stop();
      expect(exit.code).toBe(0);
      stopped.push(old);
      await mesh.spawn(old.service);
    }
    loading = false;
    await load;
    const lastCreate = Date.now();

    const tabs = await mesh.waitAllTerminal(org, 50_000);
    expect(tabs).toHaveLength(n);
    expect(tabs.every((t) => t.state === TabState.Ready)).toBe(true);
    // No job sat out a 60 s ack wait: everything was ready well before one could have expired.
    expect(Date.now() - lastCreate).toBeLessThan(45_000);
    for (const t of tabs) expect(Date.parse(t.readyAt!) - Date.parse(t.createdAt)).toBeLessThan(30_000);
    for (const p of stopped) {
      expect(p.lines('drain start')).toHaveLength(1);
      expect(p.lines('drain end')).toHaveLength(1);
    }
    const live = await mesh.live();
    for (const t of tabs) expect(live.sessionsByTab.get(t.id)).toBe(1);
    for (let t = 0; t * 3 < n; t++) expect(live.sandboxesByTask.get(`${org}.t${t}`)).toBe(1);
  });
});
