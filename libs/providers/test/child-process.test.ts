import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SandboxRef } from '@tabmesh/contracts';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { localSandboxId } from '../src/index.js';
import { localProvider, tempStateDir } from './local-helpers.js';

const state = tempStateDir();
const provider = localProvider(state.dir);
const org = 'kill9';
const fixture = fileURLToPath(new URL('./fixtures/provision-child.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const signal = new AbortController().signal;
const made: SandboxRef[] = [];

/** Runs the fixture; resolves with its output lines once `until` matches one (or it exits). */
function runChild(task: string, env: Record<string, string>, until: (line: Record<string, unknown>) => boolean) {
  const child = spawn(tsx, [fixture, state.dir, org, task, '1'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const done = new Promise<Record<string, unknown>[]>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const parsed = JSON.parse(l) as Record<string, unknown>;
      lines.push(parsed);
      if (until(parsed)) resolve(lines);
    });
    child.once('exit', () => resolve(lines));
    child.once('error', reject);
  });
  return { child, done };
}

const exited = (child: ReturnType<typeof spawn>) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

afterAll(async () => {
  for (const ref of made) await provider.destroySandbox(ref).catch(() => undefined);
  // Also whatever a child made and a failing test left behind.
  for (const r of provider.records.list())
    await provider.destroySandbox({ provider: 'local', id: r.id, endpoint: null }).catch(() => undefined);
  state.cleanup();
});

describe('local sandboxes across processes', () => {
  it('a sandbox outlives the process that provisioned it, and another process uses it from the SandboxRef', async () => {
    const task = uniqueId('t');
    const { child, done } = runChild(task, {}, (l) => 'ref' in l);
    const lines = await done;
    await exited(child);
    const ref = lines.find((l) => 'ref' in l)?.ref as SandboxRef;
    made.push(ref);
    expect(child.exitCode).toBe(0);
    expect(await provider.sandboxAlive(ref)).toBe(true);
    // This process has no record of its own making: the ref (as stored in KV) is enough.
    const other = localProvider(tempStateDir().dir);
    const { sessionId } = await other.createSession(JSON.parse(JSON.stringify(ref)) as SandboxRef, {
      org,
      task,
      tab: uniqueId('tab'),
      attempt: 1,
      agent: 'mock',
      model: null,
      signal,
    });
    expect(await provider.sessionExists(ref, sessionId)).toBe(true);
    await other.destroySession(ref, sessionId);
  });

  for (const killAt of ['creating_sandbox', 'starting_agent'] as const) {
    it(`kill -9 of a provisioner at ${killAt}, then provisioning again: one live sandbox for the task`, async () => {
      const task = uniqueId('t');
      const { child, done } = runChild(task, { KILL_AT: killAt }, (l) => l.step === killAt);
      await done;
      child.kill('SIGKILL');
      await exited(child);
      const ref = await provider.provision({ org, task, generation: 1, signal, onStep: () => {} });
      made.push(ref);
      expect(ref.id).toBe(localSandboxId(org, task, 1));
      expect(await provider.sandboxAlive(ref)).toBe(true);
      const pids = provider.liveSandboxPids(org, task);
      expect(pids).toHaveLength(1);
      const record = provider.records.read(ref.id);
      expect(record?.pid).toBe(pids[0]);
      expect(() => process.kill(record!.pid!, 0)).not.toThrow();
      // Whether adopted from the killed provisioner or started afresh, its token is off its command line.
      expect(readFileSync(`/proc/${record!.pid}/cmdline`, 'utf8')).not.toContain(ref.token!);
      // And destroying it leaves nothing running.
      await provider.destroySandbox(ref);
      expect(provider.liveSandboxPids(org, task)).toHaveLength(0);
    });
  }
});
