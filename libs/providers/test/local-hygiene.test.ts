import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  decode,
  ErrorCode,
  encodeText,
  ProvisionJobSchema,
  type SandboxRef,
  ValidationError,
} from '@tabmesh/contracts';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { localSandboxId, ProviderError, type SandboxRecord } from '../src/index.js';
import { isAlive, killSandboxProcess, processStartTime, SandboxIdEnv } from '../src/local/processes.js';
import { localProvider, sessionRequest, tempStateDir } from './local-helpers.js';

const state = tempStateDir();
const provider = localProvider(state.dir);
const org = 'hygiene';
const signal = new AbortController().signal;
const Canary = `canary-${process.pid}-${Date.now()}`;
const mode = (path: string) => statSync(path).mode & 0o777;
const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8');
/** Every live process carrying the sandbox's mark: the server and whatever agents it started. */
const marked = (id: string) =>
  readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        return environ(pid).includes(`${SandboxIdEnv}=${id}`);
      } catch {
        return false;
      }
    });

let ref: SandboxRef;
let record: SandboxRecord;
const sleepers: ChildProcess[] = [];
const sleeper = () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  sleepers.push(child);
  return child.pid!;
};

beforeAll(async () => {
  // A secret of the provisioner's own environment, which no sandbox may inherit.
  process.env.TABMESH_CANARY_SECRET = Canary;
  try {
    ref = await provider.provision({ org, task: uniqueId('t'), generation: 1, signal, onStep: () => {} });
  } finally {
    delete process.env.TABMESH_CANARY_SECRET;
  }
  record = provider.records.read(ref.id)!;
});
afterAll(async () => {
  for (const s of sleepers) s.kill('SIGKILL');
  await provider.destroySandbox(ref).catch(() => undefined);
  state.cleanup();
});

describe('local sandbox host hygiene', () => {
  it('keeps the token off the command line of the server and of its agents', async () => {
    expect(record.pid).toBeGreaterThan(1);
    expect(ref.token).toBeTruthy();
    const server = cmdline(record.pid!);
    expect(server.split('\0')).toContain('server'); // it is the server's command line we read
    expect(server).not.toContain(ref.token!);
    // An agent process started by a session does not get it either.
    const { sessionId } = await provider.createSession(ref, sessionRequest(org));
    const pids = marked(ref.id);
    expect(pids).toContain(record.pid);
    for (const pid of pids) expect(cmdline(pid)).not.toContain(ref.token!);
    await provider.destroySession(ref, sessionId);
    // And the server still authenticates with it: blanking its argv did not change the token it checks.
    expect(await provider.sandboxAlive(ref)).toBe(true);
  });

  it('gives the sandbox an allow-listed environment: no provisioner secret, no token, its mark and HOME/PATH', () => {
    const env = environ(record.pid!);
    expect(env.some((e) => e.startsWith('TABMESH_CANARY_SECRET='))).toBe(false);
    expect(env.join('\n')).not.toContain(Canary);
    expect(env.join('\n')).not.toContain(ref.token!);
    expect(env).toContain(`${SandboxIdEnv}=${ref.id}`);
    expect(env.some((e) => e.startsWith('PATH='))).toBe(true);
    if (process.env.HOME) expect(env).toContain(`HOME=${process.env.HOME}`);
    // Nothing of the provisioner's own configuration either.
    expect(env.some((e) => e.startsWith('NATS_') || e.startsWith('TABMESH_STATE_DIR') || e.startsWith('VITEST'))).toBe(
      false,
    );
  });

  it('writes records, locks and logs 0600 in a 0700 directory, also under a loose umask', () => {
    expect(mode(provider.records.dir)).toBe(0o700);
    expect(mode(provider.records.recordPath(ref.id))).toBe(0o600);
    expect(mode(provider.records.logPath(ref.id))).toBe(0o600);
    const previous = process.umask(0);
    try {
      const id = localSandboxId(org, uniqueId('umask'), 1);
      provider.records.write({ ...record, id, pid: null, state: 'starting' });
      expect(mode(provider.records.recordPath(id))).toBe(0o600);
      const release = provider.records.tryLock(id)!;
      expect(mode(provider.records.lockPath(id))).toBe(0o600);
      release();
      provider.records.remove(id);
    } finally {
      process.umask(previous);
    }
  });

  it('tightens a sandboxes directory an earlier version left world-readable', () => {
    const loose = tempStateDir();
    try {
      mkdirSync(join(loose.dir, 'sandboxes'), { mode: 0o755 });
      chmodSync(join(loose.dir, 'sandboxes'), 0o755);
      expect(mode(join(loose.dir, 'sandboxes'))).toBe(0o755);
      expect(mode(localProvider(loose.dir).records.dir)).toBe(0o700);
    } finally {
      loose.cleanup();
    }
  });

  it('refuses a teardown job whose sandbox id is a path, at decode and in the provider, touching nothing', async () => {
    const nested = tempStateDir();
    try {
      const deep = join(nested.dir, 'a', 'b');
      const traversal = localProvider(deep);
      // Where `../../tmp/x` would land from `${deep}/sandboxes`: plant files there and see them survive.
      const target = join(traversal.records.dir, '..', '..', 'tmp', 'x');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(`${target}.json`, 'planted');
      writeFileSync(`${target}.lock`, 'planted');
      const bad: SandboxRef = { provider: 'local', id: '../../tmp/x', endpoint: null };

      // The bus decode (what the provisioner's worker does first) refuses it: a poison job, never retried.
      const job = JSON.stringify({ v: 1, op: 'teardown', org, task: 't', generation: 1, sandbox: bad });
      expect(() => decode(ProvisionJobSchema, job, 'PROVISION job')).toThrow(ValidationError);
      expect(() => encodeText(ProvisionJobSchema, JSON.parse(job), 'PROVISION job')).toThrow(ValidationError);
      // And a ref built in-process is refused by the provider before it names a file.
      await expect(traversal.destroySandbox(bad)).rejects.toBeInstanceOf(ValidationError);
      await expect(traversal.sandboxAlive(bad)).rejects.toBeInstanceOf(ValidationError);
      await expect(traversal.destroySandbox({ ...bad, id: 'a.b' })).rejects.toBeInstanceOf(ValidationError);
      expect(readFileSync(`${target}.json`, 'utf8')).toBe('planted');
      expect(readFileSync(`${target}.lock`, 'utf8')).toBe('planted');
      expect(readdirSync(traversal.records.dir)).toEqual([]);
    } finally {
      nested.cleanup();
    }
  });
});

describe("a kill reaches only the sandbox's own processes", () => {
  /** Plants a record as an attacker (or a corrupted disk) would, for a fresh sandbox id. */
  const plant = (over: Partial<SandboxRecord>) => {
    const task = uniqueId('planted');
    const id = localSandboxId(org, task, 1);
    provider.records.write({ ...record, id, task, state: 'running', pidStart: null, ...over });
    return { id, task, ref: { provider: 'local', id, endpoint: null } satisfies SandboxRef };
  };

  // Every signal the provider sends passes through process.kill; kill(pid, 0) is only a liveness probe.
  let signals: [number, string | number | undefined][] = [];
  beforeEach(() => {
    signals = [];
    const real = process.kill.bind(process);
    vi.spyOn(process, 'kill').mockImplementation((pid: number, sig?: string | number) => {
      if (sig !== 0) signals.push([pid, sig]);
      return real(pid, sig);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(false);
    expect((err as ProviderError).message).toBe('refused to stop a process that does not belong to the sandbox');
    return err as ProviderError;
  };

  it('refuses a record with pid 1: nothing signalled, the record left for inspection', async () => {
    const { id, ref: planted } = plant({ pid: 1 });
    const err = await refusal(provider.destroySandbox(planted));
    expect(err.details).toMatchObject({ sandboxId: id, pid: 1 });
    expect(existsSync(provider.records.recordPath(id))).toBe(true);
    await expect(killSandboxProcess(1, id)).rejects.toBeInstanceOf(ProviderError);
    await expect(killSandboxProcess(-1, id)).rejects.toBeInstanceOf(ProviderError);
    await expect(killSandboxProcess(0, id)).rejects.toBeInstanceOf(ProviderError);
    expect(signals).toEqual([]);
    provider.records.remove(id);
  });

  it('refuses a record naming an unrelated live process, in teardown and in provisioning; the process lives', async () => {
    const pid = sleeper();
    // A careful forger copies the process's real start time too: still refused, the mark is missing.
    for (const pidStart of [null, processStartTime(pid)]) {
      const { id, task, ref: planted } = plant({ pid, pidStart });
      await refusal(provider.destroySandbox(planted));
      await refusal(provider.provision({ org, task, generation: 1, signal, onStep: () => {} }));
      await expect(killSandboxProcess(pid, id)).rejects.toBeInstanceOf(ProviderError);
      expect(isAlive(pid)).toBe(true);
      expect(existsSync(provider.records.recordPath(id))).toBe(true);
      provider.records.remove(id);
    }
    expect(signals).toEqual([]);
    // Nor may a sandbox's mark be borrowed: the real sandbox's pid under another id is refused.
    const { ref: other } = plant({ pid: record.pid });
    await refusal(provider.destroySandbox(other));
    expect(signals).toEqual([]);
    expect(await provider.sandboxAlive(ref)).toBe(true);
    provider.records.remove(other.id);
  });

  it('treats a recycled pid (start time differs from the recorded one) as a sandbox that is gone', async () => {
    const pid = sleeper();
    const { id, ref: stale } = plant({ pid, pidStart: '1' });
    await provider.destroySandbox(stale);
    expect(signals).toEqual([]);
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(provider.records.recordPath(id))).toBe(false);
  });
});

describe('provider errors users see', () => {
  it('carry a code and a short message; the host path only in details', async () => {
    const path = join(state.dir, 'secret-host-dir', 'sandbox-agent');
    const missing = localProvider(state.dir, { binaryPath: path });
    const err = await missing.provision({ org, task: uniqueId('t'), generation: 1, signal, onStep: () => {} }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    const info = (err as ProviderError).toInfo();
    expect(info.code).toBe(ErrorCode.BinaryMissing);
    expect(info.message).toBe('sandbox-agent binary not found');
    expect(JSON.stringify(info)).not.toContain(state.dir);
    expect((err as ProviderError).details).toMatchObject({ path });
  });

  it('a start timeout names no state directory or log path', async () => {
    const slow = localProvider(state.dir, { startTimeoutMs: 1 });
    const err = await slow.provision({ org, task: uniqueId('t'), generation: 1, signal, onStep: () => {} }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as ProviderError).code).toBe(ErrorCode.SandboxStartTimeout);
    expect((err as ProviderError).message).not.toContain(state.dir);
    expect((err as ProviderError).message).not.toMatch(/\//);
  });
});
