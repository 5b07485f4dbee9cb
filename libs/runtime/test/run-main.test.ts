import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatsServer } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReadySignal, type ReadySignal } from '../src/index.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'service-main.ts');

type Child = {
  lines: Array<Record<string, unknown>>;
  ready: Promise<ReadySignal>;
  exit: Promise<number | null>;
  kill: (s: NodeJS.Signals) => void;
};

/** The fixture service as a real process with an IPC channel, as the harness starts services. */
function run(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', TABMESH_OPS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const ready = new Promise<ReadySignal>((resolve, reject) => {
    proc.on('message', (m) => isReadySignal(m) && resolve(m));
    void exit.then((code) => reject(new Error(`exited ${code} before ready`)));
  });
  ready.catch(() => undefined);
  return { lines, ready, exit, kill: (s) => proc.kill(s) };
}

describe('runMain', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('announces ready over IPC with the ops port, serves readyz, and on SIGTERM drains and exits 0', async () => {
    const child = run({ NATS_URL: server.url, ...server.adminEnv });
    const signal = await child.ready;
    expect(signal).toMatchObject({ type: 'tabmesh.ready', service: 'fixture' });
    const port = signal.ports.ops!;
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await child.exit).toBe(0);
    const msgs = child.lines.map((l) => l.msg);
    expect(msgs).toContain('fixture ready');
    expect(msgs.indexOf('drain start')).toBeLessThan(msgs.indexOf('part stopped'));
    expect(msgs.indexOf('part stopped')).toBeLessThan(msgs.indexOf('drain end'));
    expect(msgs).toContain('stopped');
  });

  it('drains on a SIGTERM sent the moment it announces ready, its lines in the order they were logged', async () => {
    for (let round = 0; round < 3; round++) {
      const child = run({ NATS_URL: server.url, ...server.adminEnv });
      await child.ready;
      child.kill('SIGTERM');
      expect(await child.exit).toBe(0);
      const msgs = child.lines.map((l) => l.msg);
      const order = ['fixture ready', 'stopping', 'drain start', 'part stopped', 'drain end', 'stopped'];
      expect(msgs.filter((m) => order.includes(m as string))).toEqual(order);
    }
  });

  it('a bad setting: the ConfigError is logged with the variable named, and the process exits 1', async () => {
    const child = run({ NATS_URL: server.url, ...server.adminEnv, TABMESH_CONCURRENCY: 'many' });
    expect(await child.exit).toBe(1);
    const fatal = child.lines.find((l) => l.msg === 'fixture failed to start');
    expect(fatal).toMatchObject({ level: 60, service: 'fixture', err: { type: 'ConfigError' } });
    expect((fatal!.err as { message: string }).message).toContain('TABMESH_CONCURRENCY');
  });

  it('a start that throws: what started is undone, the error logged, the process exits 1', async () => {
    const child = run({ NATS_URL: server.url, ...server.adminEnv, FIXTURE_FAIL_START: '1' });
    expect(await child.exit).toBe(1);
    const msgs = child.lines.map((l) => l.msg);
    expect(msgs).toContain('part stopped');
    expect(msgs).not.toContain('fixture ready');
    expect(child.lines.find((l) => l.msg === 'fixture failed to start')).toMatchObject({
      err: { message: 'part failed to start' },
    });
  });
});
