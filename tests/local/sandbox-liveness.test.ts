import { type TabRecord, TabState } from '@tabmesh/contracts';
import { localSandboxProcesses } from '@tabmesh/providers';
import { uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { localMeshForSuite } from './support/local-mesh.js';

// Issue 11: a sandbox that dies is noticed within 30 s (default watch interval) and none of its tabs
// stays ready on it.
describe('a sandbox-agent process killed under a ready tab (local provider)', () => {
  const { mesh, local, stateDir } = localMeshForSuite('liveness');
  const org = uniqueId('live');

  it('moves the ready tabs to a new session in a new sandbox within 30 s, never staying on the dead one', async () => {
    expect(mesh.config.TABMESH_SANDBOX_WATCH_MS).toBe(10_000);
    const tabs = await Promise.all([mesh.create(org, 't'), mesh.create(org, 't')]);
    const ready = await Promise.all(tabs.map((t) => mesh.waitForState(org, 't', t.id, [TabState.Ready], 30_000)));
    const dead = (await mesh.tasks.getTask(org, 't'))!.value.sandbox!;
    const server = localSandboxProcesses(stateDir).find((p) => p.sandboxId === dead.id);
    expect(server).toBeDefined();
    const killedAt = Date.now();
    process.kill(server!.pid, 'SIGKILL');

    const settled = async (id: string): Promise<TabRecord | undefined> => {
      const t = await mesh.tab(org, 't', id);
      if (t?.state === TabState.Error && t.error?.retryable) return t;
      if (t?.state === TabState.Ready && t.sandboxId !== dead.id) return t;
      return undefined;
    };
    const after = await Promise.all(
      ready.map((t) => waitFor(`tab ${t.id} off the dead sandbox`, () => settled(t.id), 30_000, 200)),
    );
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    const task = (await mesh.tasks.getTask(org, 't'))!.value;
    for (const t of after) {
      expect(t.state).toBe(TabState.Ready);
      expect(t.sandboxId).toBe(task.sandbox!.id);
      expect(t.attempt).toBe(2);
      expect(await local.sessionExists(await mesh.reach(task.sandbox!), t.sessionId!)).toBe(true);
    }
    expect(task.sandbox!.id).not.toBe(dead.id);
    expect(await local.sandboxAlive(await mesh.reach(task.sandbox!))).toBe(true);
    expect(await local.sandboxAlive(await mesh.reach(dead))).toBe(false);
  });
});
