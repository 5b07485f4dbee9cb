import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  newTab,
  newTask,
  ProvisionJobSchema,
  provisionSubject,
  SessionJobSchema,
  Streams,
  sessionSubject,
  TabState,
  tabKey,
  taskKey,
  toPendingSession,
  toProvisioned,
  toProvisioning,
} from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { LocalProvider, localSandboxProcesses } from '@tabmesh/providers';
import { publishJob } from '@tabmesh/runtime';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 11: a record of another provider (a `sim` sandbox left in the store) reaches a local-provider
// mesh: its job fails once, clearly, and nothing is destroyed.
describe('a job for a sandbox of another provider', () => {
  let mesh: TabmeshMesh<LocalProvider>;
  let local: LocalProvider;
  const stateDir = mkdtempSync(join(tmpdir(), 'tabmesh-mismatch-'));
  const org = uniqueId('mm');

  beforeAll(async () => {
    local = new LocalProvider({ stateDir, startTimeoutMs: 15_000, sessionTimeoutMs: 15_000 });
    mesh = await setup({ env: { TABMESH_PROVIDER: 'local', TABMESH_MAX_DELIVER: '3' }, provider: local });
  });
  afterAll(async () => {
    for await (const key of await mesh.bus.tasks.keys()) {
      const sandbox = (await mesh.tasks.get(key))?.value.sandbox;
      if (sandbox?.provider === 'local') await local.destroySandbox(await mesh.reach(sandbox));
    }
    await mesh.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const idle = async (stream: { name: string; consumer: string }) =>
    waitFor(
      `${stream.name} consumer idle`,
      async () => {
        const info = await mesh.bus.jsm.consumers.info(stream.name, stream.consumer);
        return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
      },
      15_000,
    );

  it('fails a teardown job for a sim sandbox once, and the local sandbox of the same id lives on', async () => {
    const tab = await mesh.create(org, 'live');
    await mesh.waitForState(org, 'live', tab.id, [TabState.Ready], 30_000);
    const real = (await mesh.tasks.getTask(org, 'live'))!.value.sandbox!;
    const worker = mesh.handles.provisioner[0]!.worker;
    const before = { ...worker.stats };
    // Same id as the live local sandbox: a provider that did not check would kill it.
    await publishJob(
      mesh.bus.js,
      provisionSubject(org, 'live'),
      ProvisionJobSchema,
      {
        v: 1,
        op: 'teardown',
        org,
        task: 'live',
        generation: 9,
        sandbox: { provider: 'sim', id: real.id },
      },
      `mismatch-teardown-${org}`,
      'mismatch',
    );
    await waitFor('the job failed', async () => worker.stats.failed > before.failed, 10_000);
    const info = await idle(Streams.provision);
    await sleep(500);
    expect(worker.stats.failed - before.failed).toBe(1);
    expect(worker.stats.started - before.started).toBe(1); // one delivery: not retried
    expect(info.num_redelivered).toBe(0);
    expect(await local.sandboxAlive(await mesh.reach(real))).toBe(true);
    expect(localSandboxProcesses(stateDir).map((p) => p.sandboxId)).toContain(real.id);
  });

  it('fails a session job for a task whose sandbox is sim once, naming both providers', async () => {
    const task = 'stale';
    const simSandbox = { provider: 'sim', id: `sim-${org}-${task}-g1`, endpoint: `sim://x`, token: null };
    await mesh.tasks.create(taskKey(org, task), toProvisioned(toProvisioning(newTask(org, task))!, simSandbox)!);
    const pending = toPendingSession(
      newTab(
        { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', org, task, title: '', agent: 'mock', model: null, clientRequestId: null },
        null,
      ),
      simSandbox.id,
    )!;
    await mesh.tabs.create(tabKey(org, task, pending.id), pending);
    const worker = mesh.handles.sessionCreator[0]!.worker;
    const before = { ...worker.stats };
    await publishJob(
      mesh.bus.js,
      sessionSubject(org, task, pending.id),
      SessionJobSchema,
      { v: 1, op: 'create', org, task, tab: pending.id, attempt: 1 },
      `mismatch-create-${org}`,
      'mismatch',
    );
    const failed = await mesh.waitForState(org, task, pending.id, [TabState.Error, TabState.Ready], 10_000);
    expect(failed.state).toBe(TabState.Error);
    expect(failed.error?.message).toMatch(/"sim".*"local"/);
    await publishJob(
      mesh.bus.js,
      sessionSubject(org, task, pending.id),
      SessionJobSchema,
      { v: 1, op: 'destroy', org, task, tab: pending.id, sessionId: 'ses-x' },
      `mismatch-destroy-${org}`,
      'mismatch',
    );
    await waitFor('both jobs failed', async () => worker.stats.failed - before.failed >= 2, 10_000);
    const info = await idle(Streams.sessions);
    await sleep(500);
    expect(worker.stats.failed - before.failed).toBe(2);
    expect(worker.stats.started - before.started).toBe(2);
    expect(info.num_redelivered).toBe(0);
    // The task keeps its record: nothing was changed on the strength of a foreign sandbox.
    expect((await mesh.tasks.getTask(org, task))?.value.sandbox).toEqual({ provider: 'sim', id: simSandbox.id });
  });
});
