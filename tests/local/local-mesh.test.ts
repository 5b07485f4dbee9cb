import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decode,
  encode,
  provisionSubject,
  SessionPersistNames,
  Subjects,
  TabState,
  TaskRefRequestSchema,
  TaskReplySchema,
} from '@tabmesh/contracts';
import { setup } from '@tabmesh/harness';
import { LocalProvider, localSandboxId, sessionIdFor } from '@tabmesh/providers';
import { sleep, uniqueId, waitFor } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { localMeshForSuite } from './support/local-mesh.js';

// Issue 3 at the service level: the real sandbox-agent binary with its mock agent, through the mesh.
describe('tabs backed by real sandbox-agent sessions (local provider)', () => {
  const { mesh, local, stateDir } = localMeshForSuite('local-mesh', { TABMESH_MAX_DELIVER: '2' });
  const org = uniqueId('org');

  const sandboxOf = async (task: string) => {
    const t = await mesh.tasks.getTask(org, task);
    if (!t?.value.sandbox) throw new Error(`task ${task} has no sandbox`);
    return t.value.sandbox;
  };

  it('gives a ready tab a session that sandbox-agent itself runs, recorded in JetStream', async () => {
    const tab = await mesh.create(org, 'a', { model: 'mock-fast' });
    const ready = await mesh.waitForState(org, 'a', tab.id, [TabState.Ready], 30_000);
    expect(ready.sessionId).toBe(sessionIdFor(tab.id, 1));
    const sandbox = await sandboxOf('a');
    expect(sandbox.provider).toBe('local');
    expect(await local.sandboxAlive(await mesh.reach(sandbox))).toBe(true);
    expect(await local.sessionExists(await mesh.reach(sandbox), ready.sessionId!)).toBe(true);
    const kvm = (await import('@nats-io/kv')).Kvm;
    const sessions = await new kvm(mesh.nc).open(SessionPersistNames.bucket);
    const keys: string[] = [];
    for await (const k of await sessions.keys()) keys.push(k);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('puts two tabs of one task in one sandbox, and closing a tab destroys its session', async () => {
    const [one, two] = await Promise.all([mesh.create(org, 'b'), mesh.create(org, 'b')]);
    const [r1, r2] = await Promise.all(
      [one, two].map((t) => mesh.waitForState(org, 'b', t!.id, [TabState.Ready], 30_000)),
    );
    expect(r1!.sandboxId).toBe(r2!.sandboxId);
    const sandbox = await sandboxOf('b');
    await mesh.tabOp(Subjects.tabClose, org, 'b', one!.id);
    await waitFor(
      'session destroyed in sandbox-agent',
      async () => !(await local.sessionExists(await mesh.reach(sandbox), r1!.sessionId!)),
      20_000,
    );
    expect(await local.sessionExists(await mesh.reach(sandbox), r2!.sessionId!)).toBe(true);
  });

  it('leaves no session in sandbox-agent for tabs closed while their session was being created', async () => {
    const warm = await mesh.create(org, 'c');
    await mesh.waitForState(org, 'c', warm.id, [TabState.Ready], 30_000);
    const sandbox = await sandboxOf('c');
    const tabs = await Promise.all(Array.from({ length: 4 }, () => mesh.create(org, 'c')));
    for (const [i, t] of tabs.entries()) {
      await sleep(i * 40); // close at different moments of the session creation
      await mesh.tabOp(Subjects.tabClose, org, 'c', t.id);
    }
    await sleep(3000); // any creation still running finishes and loses its compare-and-set
    for (const t of tabs) {
      expect((await mesh.tab(org, 'c', t.id))?.state).toBe(TabState.Closed);
      await waitFor(
        `no session for ${t.id}`,
        async () => !(await local.sessionExists(await mesh.reach(sandbox), sessionIdFor(t.id, 1))),
        20_000,
      );
    }
  });

  it('maps an unknown agent to session_refused on the tab', async () => {
    const tab = await mesh.create(org, 'd', { agent: 'no-such-agent' });
    const failed = await mesh.waitForState(org, 'd', tab.id, [TabState.Error], 30_000);
    expect(failed.error?.code).toBe('session_refused');
  });

  it('provisions a new sandbox when the sandbox of the task is gone', async () => {
    const first = await mesh.create(org, 'e');
    await mesh.waitForState(org, 'e', first.id, [TabState.Ready], 30_000);
    const lost = await sandboxOf('e');
    await local.destroySandbox(await mesh.reach(lost)); // as a reboot would
    const next = await mesh.create(org, 'e');
    const ready = await mesh.waitForState(org, 'e', next.id, [TabState.Ready], 30_000);
    const replaced = await sandboxOf('e');
    expect(replaced.id).not.toBe(lost.id);
    expect(ready.sandboxId).toBe(replaced.id);
    expect(await local.sessionExists(await mesh.reach(replaced), ready.sessionId!)).toBe(true);
    expect((await mesh.tasks.status(org, 'e')).generation).toBe(2);
  });

  it('tears a task down: every tab closed, the sandbox process gone', async () => {
    const tabs = await Promise.all([mesh.create(org, 'f'), mesh.create(org, 'f')]);
    await Promise.all(tabs.map((t) => mesh.waitForState(org, 'f', t.id, [TabState.Ready], 30_000)));
    const sandbox = await sandboxOf('f');
    const reply = decode(
      TaskReplySchema,
      (
        await mesh.nc.request(Subjects.taskTeardown, encode(TaskRefRequestSchema, { v: 1, org, task: 'f' }, 't'), {
          timeout: 10_000,
        })
      ).data,
      'reply',
    );
    expect(reply.ok && reply.closedTabs).toBe(2);
    expect(reply.ok && reply.task.state).toBe('unprovisioned');
    for (const t of tabs) expect((await mesh.tab(org, 'f', t.id))?.state).toBe(TabState.Closed);
    await waitFor('sandbox process gone', async () => !(await local.sandboxAlive(await mesh.reach(sandbox))), 20_000);
  });

  it('refuses teardown jobs with a path for a sandbox id, or naming a record with pid 1: nothing touched', async () => {
    const tab = await mesh.create(org, 'g');
    await mesh.waitForState(org, 'g', tab.id, [TabState.Ready], 30_000);
    const live = await sandboxOf('g');
    const worker = mesh.handles.provisioner[0]!.worker;
    const before = { ...worker.stats };
    // What `../planted` would name from the sandboxes directory, and a record claiming pid 1.
    writeFileSync(join(stateDir, 'planted.json'), 'planted');
    const forged = localSandboxId(org, 'forged', 1);
    local.records.write({ ...local.records.read(live.id)!, id: forged, task: 'forged', pid: 1, pidStart: null });
    const teardown = (id: string) =>
      mesh.bus.js.publish(
        provisionSubject(org, 'g'),
        new TextEncoder().encode(
          JSON.stringify({
            v: 1,
            op: 'teardown',
            org,
            task: 'g',
            generation: 1,
            sandbox: { provider: 'local', id, endpoint: null },
          }),
        ),
      );
    await teardown('../../tmp/x');
    await teardown('../planted');
    await teardown(forged);
    // The two path ids never decode (poison, terminated); the forged record is refused for good, not retried.
    await waitFor(
      'jobs refused',
      () => worker.stats.poison - before.poison === 2 && worker.stats.failed - before.failed === 1,
      20_000,
    );
    await sleep(200);
    expect(worker.stats.failed - before.failed).toBe(1); // not redelivered
    expect(readFileSync(join(stateDir, 'planted.json'), 'utf8')).toBe('planted');
    expect(existsSync(local.records.recordPath(forged))).toBe(true);
    expect(await local.sandboxAlive(await mesh.reach(live))).toBe(true);
    local.records.remove(forged);
  });
});

describe('local provider failures reach the tab with their codes', () => {
  it('puts the task and its tabs in error with binary_missing when the binary is missing', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'tabmesh-local-missing-'));
    try {
      await using mesh = await setup({
        provider: new LocalProvider({
          stateDir,
          binaryPath: '/nonexistent/sandbox-agent',
          startTimeoutMs: 5000,
          sessionTimeoutMs: 5000,
        }),
      });
      const tab = await mesh.create('o', 'missing');
      const failed = await mesh.waitForState('o', 'missing', tab.id, [TabState.Error], 20_000);
      expect(failed.error?.code).toBe('binary_missing');
      // The user sees a short message; the host path stays in the provisioner's logs.
      expect(failed.error?.message).toBe('sandbox-agent binary not found');
      expect(JSON.stringify(await mesh.tasks.status('o', 'missing'))).not.toContain('/nonexistent');
      expect((await mesh.tasks.status('o', 'missing')).error?.code).toBe('binary_missing');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
