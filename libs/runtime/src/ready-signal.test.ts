import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForReadySignal } from './ready-signal.js';

const children: ReturnType<typeof spawn>[] = [];

/** A Node child with an IPC channel running `code` (plain JavaScript). */
function child(code: string) {
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  children.push(proc);
  return proc;
}

const signal = (service: string, ports = {}) =>
  `process.send({ type: 'tabmesh.ready', service: ${JSON.stringify(service)}, ports: ${JSON.stringify(ports)} });`;

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('waitForReadySignal', () => {
  it('resolves with the first ready signal when no service is named, ignoring other messages', async () => {
    const proc = child(
      `process.send({ type: 'other' }); ${signal('gateway', { http: 1 })} setInterval(() => {}, 1000);`,
    );
    await expect(waitForReadySignal(proc)).resolves.toEqual({
      type: 'tabmesh.ready',
      service: 'gateway',
      ports: { http: 1 },
    });
  });

  it("waits for the named service's signal past the others a host's services send", async () => {
    const proc = child(
      `${signal('tab-registry')} ${signal('gateway', { http: 2 })} setTimeout(() => { ${signal('mesh-host', { http: 3 })} }, 50); setInterval(() => {}, 1000);`,
    );
    const got = await waitForReadySignal(proc, { service: 'mesh-host' });
    expect(got.service).toBe('mesh-host');
    expect(got.ports).toEqual({ http: 3 });
  });

  it('rejects with the exit code when the child exits before its signal', async () => {
    const proc = child(`${signal('provisioner')} process.exit(3);`);
    await expect(waitForReadySignal(proc, { service: 'gateway' })).rejects.toThrow('exited (3) before it was ready');
  });

  it('rejects after the timeout when no signal comes, and leaves the child running', async () => {
    const proc = child('setInterval(() => {}, 1000);');
    await expect(waitForReadySignal(proc, { timeoutMs: 200 })).rejects.toThrow('not ready within 200 ms');
    expect(proc.exitCode).toBeNull();
  });
});
