import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { KvWatchInclude } from '@nats-io/kv';
import { Subjects, TabCreateRequestSchema, TabReplySchema, TabState, decode, encode, taskKey } from '@tabmesh/contracts';
import { LocalProvider, findSandboxProcesses, localSandboxId, localTaskPrefix } from '@tabmesh/providers';
import { TabStore, TaskStore, ensureBus, loadConfig, type Bus } from '@tabmesh/runtime';
import { NatsServer, ServiceProcess, uniqueId, waitFor } from '@tabmesh/testkit';

// Issue 3: kill -9 the provisioner while a real sandbox is starting; another provisioner finishes
// the task with exactly one live sandbox-agent process.
describe('provisioner killed mid-start with the real sandbox-agent binary', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let bus: Bus;
  const stateDir = mkdtempSync(join(tmpdir(), 'tabmesh-kill-'));
  const procs: ServiceProcess[] = [];
  const orgs: string[] = [];
  const env = (): Record<string, string> => ({
    NATS_URL: server.url,
    LOG_LEVEL: 'info',
    TABMESH_PROVIDER: 'local',
    TABMESH_STATE_DIR: stateDir,
    TABMESH_ACK_WAIT_MS: '3000',
    TABMESH_RETRY_BASE_MS: '100',
  });
  const start = async (service: 'tab-registry' | 'provisioner' | 'session-creator') => {
    const p = await ServiceProcess.start({ service, env: env() });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
    bus = await ensureBus(nc, loadConfig({ NATS_URL: server.url, TABMESH_ACK_WAIT_MS: '3000' }));
    await start('tab-registry');
    await start('session-creator');
  });
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => p.kill('SIGKILL')));
    const cleaner = new LocalProvider({ stateDir, startTimeoutMs: 5000, sessionTimeoutMs: 5000 });
    for await (const key of await bus.tasks.keys()) {
      const sandbox = (await new TaskStore(bus.tasks).get(key))?.value.sandbox;
      if (sandbox) await cleaner.destroySandbox(sandbox);
    }
    const ours = new Set(orgs.map((org) => localSandboxId(org, 't', 1)));
    for (const p of findSandboxProcesses((id) => ours.has(id))) process.kill(-p.pid, 'SIGKILL');
    await nc.close();
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it.each(['creating_sandbox', 'starting_agent'] as const)('ends provisioned with one live sandbox after a SIGKILL at %s', async (step) => {
    const org = uniqueId('kill');
    orgs.push(org);
    const task = 't';
    const victim = await start('provisioner');
    const watch = await bus.tasks.watch({ key: taskKey(org, task), include: KvWatchInclude.UpdatesOnly });
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
      (await nc.request(Subjects.tabCreate, encode(TabCreateRequestSchema, { v: 1, org, task }, 'create'), { timeout: 10_000 })).data,
      'reply',
    );
    if (!reply.ok) throw new Error(reply.error.message);
    expect(await killed).toBe(true);
    watch.stop();
    await start('provisioner');
    const tabs = new TabStore(bus.tabs);
    const ready = await waitFor('tab ready', async () => {
      const t = await tabs.getTab(org, task, reply.tab.id);
      return t?.value.state === TabState.Ready ? t.value : undefined;
    }, 40_000);
    const status = await new TaskStore(bus.tasks).status(org, task);
    expect(status.state).toBe('provisioned');
    expect(ready.sandboxId).toBe(status.sandbox?.id);
    const live = findSandboxProcesses((id) => id.startsWith(localTaskPrefix(org, task)));
    expect(live.map((p) => p.sandboxId)).toEqual([status.sandbox!.id]);
  });
});
