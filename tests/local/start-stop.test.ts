import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decode, encode, Subjects, TabCreateRequestSchema, TabReplySchema, TabState } from '@tabmesh/contracts';
import { localSandboxProcesses } from '@tabmesh/providers';
import { type Bus, ensureBus, loadConfig, TabStore } from '@tabmesh/runtime';
import { freePort, NatsServer, repoRoot, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The Node processes `pid` started itself (its children), from /proc. */
function nodeChildren(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // comm is in parentheses and may hold spaces; the fields after it are space-separated.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid && comm === 'node';
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

// Issue 11: stopping `pnpm start` with SIGTERM stops the local sandboxes it ran; in both layouts:
// the four services in one process (the default) or a process each (`--processes`).
describe.each([
  { layout: 'one process', args: [] as string[], serviceProcesses: 1 },
  { layout: 'a process each', args: ['--processes'], serviceProcesses: 4 },
])('pnpm start with its services in $layout, stopped with SIGTERM (local provider)', ({ args, serviceProcesses }) => {
  let server: NatsServer;
  let nc: NatsConnection;
  let bus: Bus;
  const stateDir = mkdtempSync(join(tmpdir(), 'tabmesh-start-stop-'));

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url, ...server.adminAuth });
    bus = await ensureBus(nc, loadConfig({ NATS_URL: server.url }));
  });
  afterAll(async () => {
    for (const p of localSandboxProcesses(stateDir)) process.kill(-p.pid, 'SIGKILL');
    await nc.close();
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('leaves no sandbox-agent process of the run', async () => {
    const launcher = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'start-mesh.ts'), ...args], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NATS_URL: server.url,
        // A given NATS_URL: the operator's NATS_* settings pass through (here the test's admin, which may set up).
        ...server.adminEnv,
        TABMESH_PROVIDER: 'local',
        TABMESH_STATE_DIR: stateDir,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_HTTP_PORT: String(await freePort()),
        GATEWAY_WS_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const s of [launcher.stdout, launcher.stderr]) s.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    try {
      const org = uniqueId('start');
      const tabs = new TabStore(bus.tabs);
      const id = await waitFor(
        'a tab created',
        async () => {
          const msg = await nc
            .request(
              Subjects.tabCreate,
              encode(TabCreateRequestSchema, { v: 1, org, task: 't', clientRequestId: 'one' }, 'create'),
              { timeout: 2000 },
            )
            .catch(() => null);
          const reply = msg ? decode(TabReplySchema, msg.data, 'reply') : null;
          return reply?.ok ? reply.tab.id : undefined;
        },
        60_000,
        500,
      );
      await waitFor(
        'tab ready',
        async () => (await tabs.getTab(org, 't', id))?.value.state === TabState.Ready,
        60_000,
        200,
      );
      expect(localSandboxProcesses(stateDir)).toHaveLength(1);
      expect(nodeChildren(launcher.pid ?? -1)).toHaveLength(serviceProcesses);
      launcher.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(localSandboxProcesses(stateDir)).toEqual([]);
      expect(output).toContain('stopped 1 local sandbox');
    } finally {
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
    }
  });
});
