import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvWatchInclude } from '@nats-io/kv';
import {
  decode,
  encode,
  Subjects,
  TabCreateRequestSchema,
  TabReplySchema,
  TabState,
  taskKey,
} from '@tabmesh/contracts';
import { findSandboxProcesses, LocalProvider, localSandboxId, localTaskPrefix } from '@tabmesh/providers';
import { type Mesh, ServiceName, setup, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 3: kill -9 the provisioner while a real sandbox is starting; another provisioner finishes
// the task with exactly one live sandbox-agent process.
describe('provisioner killed mid-start with the real sandbox-agent binary', () => {
  let mesh: Mesh;
  const stateDir = mkdtempSync(join(tmpdir(), 'tabmesh-kill-'));
  const orgs: string[] = [];

  beforeAll(async () => {
    // The services' own timings but for a short ack wait and retry, as operators would run them.
    mesh = await setup({
      mode: 'process',
      provider: 'local',
      testDefaults: false,
      services: { provisioner: 0 },
      env: {
        LOG_LEVEL: 'info',
        TABMESH_STATE_DIR: stateDir,
        TABMESH_ACK_WAIT_MS: '3000',
        TABMESH_RETRY_BASE_MS: '100',
      },
    });
  });
  afterAll(async () => {
    await Promise.allSettled(mesh.processes.map((p) => p.kill('SIGKILL')));
    const cleaner = new LocalProvider({ stateDir, startTimeoutMs: 5000, sessionTimeoutMs: 5000 });
    for await (const key of await mesh.bus.tasks.keys()) {
      const sandbox = (await mesh.tasks.get(key))?.value.sandbox;
      if (sandbox) await cleaner.destroySandbox(await mesh.reach(sandbox));
    }
    const ours = new Set(orgs.map((org) => localSandboxId(org, 't', 1)));
    for (const p of findSandboxProcesses((id) => ours.has(id))) process.kill(-p.pid, 'SIGKILL');
    await mesh.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it.each(['creating_sandbox', 'starting_agent'] as const)(
    'ends provisioned with one live sandbox after a SIGKILL at %s',
    async (step) => {
      const org = uniqueId('kill');
      orgs.push(org);
      const task = 't';
      const victim = await mesh.spawn(ServiceName.Provisioner);
      const watch = await mesh.bus.tasks.watch({ key: taskKey(org, task), include: KvWatchInclude.UpdatesOnly });
      const killed = (async () => {
        for await (const e of watch) {
          if ((e.json() as { step: string | null }).step === step) {
            await victim.kill('SIGKILL');
            return true;
          }
        }
        return false;
      })();
      const reply = decode(
        TabReplySchema,
        (
          await mesh.nc.request(Subjects.tabCreate, encode(TabCreateRequestSchema, { v: 1, org, task }, 'create'), {
            timeout: 10_000,
          })
        ).data,
        'reply',
      );
      if (!reply.ok) throw new Error(reply.error.message);
      expect(await killed).toBe(true);
      watch.stop();
      await mesh.spawn(ServiceName.Provisioner);
      const ready = await waitFor(
        'tab ready',
        async () => {
          const t = await mesh.tabs.getTab(org, task, reply.tab.id);
          return t?.value.state === TabState.Ready ? t.value : undefined;
        },
        40_000,
      );
      const status = await mesh.tasks.status(org, task);
      expect(status.state).toBe('provisioned');
      expect(ready.sandboxId).toBe(status.sandbox?.id);
      const live = findSandboxProcesses((id) => id.startsWith(localTaskPrefix(org, task)));
      expect(live.map((p) => p.sandboxId)).toEqual([status.sandbox!.id]);
    },
  );
});
