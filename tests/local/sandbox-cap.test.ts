import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subjects, TabState } from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { localSandboxProcesses, type SandboxProvider } from '@tabmesh/providers';
import { SandboxSlots } from '@tabmesh/runtime';
import { uniqueId, waitFor } from '@tabmesh/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const Cap = 3;

/** Samples the live sandbox-agent servers of one state dir from /proc every 100 ms. */
function sampleProcesses(stateDir: string): { peak: () => number; stop: () => void } {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, localSandboxProcesses(stateDir).length);
  }, 100);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

// Issue 11: TABMESH_MAX_SANDBOXES with the real sandbox-agent binary and provisioners as processes.
describe('the sandbox cap (local provider, services as processes)', () => {
  let mesh: TabmeshMesh<SandboxProvider>;
  let stateDir: string;

  beforeEach(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'tabmesh-cap-'));
    // Services as child processes, none started here: each test spawns its own.
    mesh = await setup({
      mode: 'process',
      services: { tabRegistry: 0, provisioner: 0, sessionCreator: 0 },
      env: {
        TABMESH_PROVIDER: 'local',
        TABMESH_STATE_DIR: stateDir,
        TABMESH_MAX_SANDBOXES: String(Cap),
        TABMESH_SANDBOX_IDLE_MS: '1500',
        TABMESH_SANDBOX_WATCH_MS: '1000',
        TABMESH_ACK_WAIT_MS: '4000',
      },
    });
  });
  afterEach(async () => {
    await mesh.stop();
    for (const p of localSandboxProcesses(stateDir)) process.kill(-p.pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** Creates one tab on each task and closes each tab once ready; resolves when all were served. */
  async function serve(org: string, tasks: string[], seen: Set<string>): Promise<void> {
    await Promise.all(
      tasks.map(async (task) => {
        const made = await mesh.tryCreate(org, task, {}, 10_000);
        if (!made.ok) throw new Error(made.error);
        await waitFor(
          `tab of ${task} ready`,
          async () => {
            const t = await mesh.tab(org, task, made.tab.id);
            if (t?.progress) seen.add(t.progress);
            return t?.state === TabState.Ready
              ? t
              : t?.state === TabState.Error
                ? Promise.reject(new Error(`${task}: ${t.error?.message}`))
                : undefined;
          },
          120_000,
          100,
        );
        await mesh.tabOp(Subjects.tabClose, org, task, made.tab.id, 5000);
      }),
    );
  }

  it('serves 8 tasks with never more than 3 live sandboxes across two provisioners, then reaps them all', async () => {
    await mesh.spawn('tab-registry');
    await mesh.spawn('session-creator');
    await mesh.spawn('provisioner');
    await mesh.spawn('provisioner');
    const org = uniqueId('cap');
    const sampler = sampleProcesses(stateDir);
    const progress = new Set<string>();
    try {
      await serve(
        org,
        Array.from({ length: 8 }, (_, i) => `t${i}`),
        progress,
      );
      await waitFor('every sandbox reaped', async () => localSandboxProcesses(stateDir).length === 0, 30_000, 200);
    } finally {
      sampler.stop();
    }
    expect(sampler.peak()).toBeGreaterThan(0);
    expect(sampler.peak()).toBeLessThanOrEqual(Cap);
    expect(progress).toContain(`Queued (sandbox limit ${Cap} reached)`);
    const slots = new SandboxSlots(mesh.bus.sandboxSlots, Cap);
    await waitFor('slots released', async () => (await slots.holders()).length === 0, 15_000);
    for (let i = 0; i < 8; i++) expect((await mesh.tasks.status(org, `t${i}`)).state).toBe('unprovisioned');
  });

  it('gets back the slots of a SIGKILLed provisioner: the next tasks are served', async () => {
    await mesh.spawn('tab-registry');
    await mesh.spawn('session-creator');
    const victim = await mesh.spawn('provisioner');
    const org = uniqueId('capkill');
    const slots = new SandboxSlots(mesh.bus.sandboxSlots, Cap);
    const sampler = sampleProcesses(stateDir);
    const progress = new Set<string>();
    try {
      const first = Array.from({ length: Cap }, (_, i) => `a${i}`);
      const created = await Promise.all(first.map((task) => mesh.tryCreate(org, task)));
      expect(created.every((c) => c.ok)).toBe(true);
      await waitFor('the victim holds every slot', async () => (await slots.holders()).length === Cap, 30_000, 50);
      await victim.kill('SIGKILL');
      await mesh.spawn('provisioner');
      // Close the first tabs once ready (whoever finished them), and serve three more tasks.
      const closeFirst = Promise.all(
        created.map(async (c, i) => {
          if (!c.ok) return;
          await mesh.waitForState(org, first[i]!, c.tab.id, [TabState.Ready], 60_000);
          await mesh.tabOp(Subjects.tabClose, org, first[i]!, c.tab.id, 5000);
        }),
      );
      await Promise.all([closeFirst, serve(org, ['b0', 'b1', 'b2'], progress)]);
      await waitFor('every sandbox reaped', async () => localSandboxProcesses(stateDir).length === 0, 30_000, 200);
      await waitFor('slots released', async () => (await slots.holders()).length === 0, 15_000);
    } finally {
      sampler.stop();
    }
    expect(sampler.peak()).toBeGreaterThan(0);
    expect(sampler.peak()).toBeLessThanOrEqual(Cap);
  });
});
