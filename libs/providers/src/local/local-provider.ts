import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, parse, SandboxIdSchema, type SandboxRef, Step } from '@tabmesh/contracts';
import { freePort } from '@tabmesh/runtime';
import type { SessionPersistDriver } from 'sandbox-agent';
import { ProviderError } from '../errors.js';
import type { ProvisionRequest, SandboxProvider, SessionRequest } from '../provider.js';
import { AgentSessions, sessionIdFor } from '../sandbox-agent/sessions.js';
import { resolveBinary } from './binary.js';
import { hideArgument } from './hide-argument.js';
import {
  carriesMark,
  findSandboxProcesses,
  foreignProcessError,
  isAlive,
  killSandboxProcess,
  processStartTime,
} from './processes.js';
import { sandboxEnvironment } from './sandbox-env.js';
import { localSandboxId, localTaskPrefix, type SandboxRecord, SandboxRecords } from './sandbox-record.js';
import { SandboxStateDirEnv } from './stop-sandboxes.js';

export type LocalProviderOptions = {
  /** Records, locks and logs of local sandboxes live under `${stateDir}/sandboxes`. */
  stateDir: string;
  /** sandbox-agent binary; default: the one in @sandbox-agent/cli-linux-x64. */
  binaryPath?: string;
  startTimeoutMs: number;
  sessionTimeoutMs: number;
  /** Where the SDK keeps session records; the JetStream driver makes them reachable from any process. */
  persist?: SessionPersistDriver;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function healthy(port: number, token: string): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/health`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(1000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The id of a ref, checked again here although every bus and KV decode already did: this provider
 * turns it into file names and a kill target, so a ref built in-process is held to the same rule.
 */
const sandboxIdOf = (sandbox: SandboxRef): string => parse(SandboxIdSchema, sandbox.id, 'sandbox id');

const refOf = (record: SandboxRecord): SandboxRef => ({
  provider: 'local',
  id: record.id,
  endpoint: `http://127.0.0.1:${record.port}`,
  token: record.token,
});

/**
 * Sandboxes as local sandbox-agent server processes (the real binary, agent `mock` by default).
 *
 * The SDK's own `local` provider spawns the server as a child tied to its parent (it kills it on
 * exit/SIGINT/SIGTERM). A tabmesh sandbox must outlive the provisioner that started it, so this
 * provider spawns the binary detached, in its own process group, and keeps a record per task
 * generation on disk; a lock per sandbox makes provisioning idempotent across processes, and every
 * server carries its sandbox id in its environment so even an unrecorded one can be found and killed.
 *
 * Host hygiene: the server gets an allow-listed environment (sandbox-env.ts), its token is blanked
 * from its command line once it is up (hide-argument.ts), records are owner-only, a sandbox id is
 * validated before it names a file, and only processes carrying this sandbox's mark are signalled.
 */
export class LocalProvider implements SandboxProvider {
  readonly name = 'local';
  readonly records: SandboxRecords;
  private readonly sessions: AgentSessions;

  constructor(private readonly opts: LocalProviderOptions) {
    this.records = new SandboxRecords(opts.stateDir);
    this.sessions = new AgentSessions({
      sessionTimeoutMs: opts.sessionTimeoutMs,
      ...(opts.persist ? { persist: opts.persist } : {}),
    });
  }

  async provision(req: ProvisionRequest): Promise<SandboxRef> {
    const id = localSandboxId(req.org, req.task, req.generation);
    const existing = await this.reusable(id);
    if (existing) return existing;
    const bin = resolveBinary(this.opts.binaryPath);
    await req.onStep(Step.CreatingSandbox);
    const deadline = Date.now() + this.opts.startTimeoutMs;
    while (Date.now() < deadline) {
      if (req.signal.aborted) throw req.signal.reason;
      const release = this.records.tryLock(id);
      if (!release) {
        // Another process is starting this sandbox: wait for it, then reuse what it made.
        await sleep(50);
        const made = await this.reusable(id);
        if (made) return made;
        continue;
      }
      try {
        // Under the lock: a healthy server a dead owner left "starting" is adopted, anything else killed.
        const made = await this.reusable(id, true);
        if (made) return made;
        await this.killAll(id);
        return await this.start(req, id, bin, deadline);
      } finally {
        release();
      }
    }
    throw new ProviderError(ErrorCode.SandboxStartTimeout, 'sandbox did not start in time', {
      retryable: true,
      details: { sandboxId: id, startTimeoutMs: this.opts.startTimeoutMs },
    });
  }

  /** The recorded sandbox when its process runs and answers health checks. */
  private async reusable(id: string, adopt = false): Promise<SandboxRef | null> {
    const record = this.records.read(id);
    if (!record || record.pid === null || !isAlive(record.pid)) return null;
    if (record.state !== 'running' && !adopt) return null;
    // A record is trusted only as far as its process carries the mark (a planted record is not).
    if (!carriesMark(record.pid, id)) return null;
    if (!(await healthy(record.port, record.token))) return null;
    if (record.state !== 'running') {
      // Adopting what a dead provisioner started: it may have died before blanking the token. One that
      // cannot be blanked is not adopted; the caller kills it and starts afresh.
      if (!hideArgument(record.pid, record.token)) return null;
      this.records.write({ ...record, state: 'running' });
    }
    return refOf(record);
  }

  private async start(req: ProvisionRequest, id: string, bin: string, deadline: number): Promise<SandboxRef> {
    for (;;) {
      const port = await freePort();
      const record: SandboxRecord = {
        v: 1,
        id,
        org: req.org,
        task: req.task,
        generation: req.generation,
        pid: null,
        port,
        token: randomBytes(24).toString('hex'),
        state: 'starting',
        createdAt: new Date().toISOString(),
      };
      // Recorded before the spawn: a crash right after it leaves a record that points at the process.
      this.records.write(record);
      const log = this.records.openLog(id);
      let child: ChildProcess;
      try {
        // sandbox-agent takes its token only as an argument; it is blanked once the server is up.
        child = spawn(
          bin,
          ['server', '--host', '127.0.0.1', '--port', String(port), '--token', record.token, '--no-telemetry'],
          {
            detached: true,
            stdio: ['ignore', log, log],
            env: { ...sandboxEnvironment(process.env, bin, id), [SandboxStateDirEnv]: resolve(this.opts.stateDir) },
          },
        );
      } finally {
        closeSync(log);
      }
      const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
      child.unref();
      const pid = child.pid;
      if (pid === undefined) {
        this.records.remove(id);
        throw new ProviderError(ErrorCode.BinaryMissing, 'sandbox-agent could not be started', {
          cause: await spawnError,
          details: { path: bin },
        });
      }
      const started = { ...record, pid, pidStart: processStartTime(pid) };
      this.records.write(started);
      await req.onStep(Step.StartingAgent);
      while (Date.now() < deadline && isAlive(pid)) {
        if (req.signal.aborted) throw req.signal.reason; // the record lets the next attempt reuse or clean it
        if (await healthy(port, record.token)) {
          if (!hideArgument(pid, record.token)) {
            // Fail closed: a token every local user can read in `ps` is not a sandbox we hand out.
            await killSandboxProcess(pid, id);
            this.records.remove(id);
            throw new ProviderError(ErrorCode.ProvisionFailed, 'sandbox failed to start', {
              details: {
                sandboxId: id,
                why: `could not blank the token in /proc/${pid}/cmdline (is /proc/<pid>/mem writable by the parent?)`,
              },
            });
          }
          const running = { ...started, state: 'running' as const };
          this.records.write(running);
          return refOf(running);
        }
        await sleep(50);
      }
      if (isAlive(pid)) {
        await killSandboxProcess(pid, id);
        this.records.remove(id);
        throw new ProviderError(ErrorCode.SandboxStartTimeout, 'sandbox did not start in time', {
          retryable: true,
          details: { sandboxId: id, startTimeoutMs: this.opts.startTimeoutMs, log: this.records.logPath(id) },
        });
      }
      // Exited early, most often because another process took the port between probe and bind: retry.
      this.records.remove(id);
      if (Date.now() >= deadline) {
        throw new ProviderError(ErrorCode.SandboxStartTimeout, 'sandbox exited before it started', {
          retryable: true,
          details: { sandboxId: id, log: this.records.logPath(id) },
        });
      }
    }
  }

  /**
   * Kills every server process of this sandbox id, recorded or not, and forgets the record. Only
   * processes carrying the sandbox's mark are signalled. A record whose pid is alive but not marked is
   * either a recycled pid (its start time differs from the recorded one: the sandbox is simply gone)
   * or a record that lies (pid 1, another user's process): that is refused before anything is touched.
   */
  private async killAll(id: string): Promise<void> {
    const record = this.records.read(id);
    const pids = new Set(findSandboxProcesses((s) => s === id).map((p) => p.pid));
    if (record?.pid != null && !pids.has(record.pid)) {
      const { pid, pidStart } = record;
      const recycled = pidStart != null && processStartTime(pid) !== pidStart;
      if (pid <= 1 || (isAlive(pid) && !carriesMark(pid, id) && !recycled)) throw foreignProcessError(id, pid);
      if (isAlive(pid) && carriesMark(pid, id)) pids.add(pid);
    }
    await Promise.all([...pids].map((pid) => killSandboxProcess(pid, id)));
    this.records.remove(id);
  }

  async destroySandbox(sandbox: SandboxRef): Promise<void> {
    const id = sandboxIdOf(sandbox);
    const release = this.records.tryLock(id);
    try {
      await this.killAll(id);
    } finally {
      release?.();
    }
  }

  async sandboxAlive(sandbox: SandboxRef): Promise<boolean> {
    return (await this.reusable(sandboxIdOf(sandbox))) !== null;
  }

  /** Server pids of a task's sandboxes (any generation), found by their environment mark. */
  liveSandboxPids(org: string, task: string): number[] {
    const prefix = localTaskPrefix(org, task);
    return findSandboxProcesses((id) => id.startsWith(prefix) && /^\d+$/.test(id.slice(prefix.length))).map(
      (p) => p.pid,
    );
  }

  private target(sandbox: SandboxRef) {
    if (!sandbox.endpoint)
      throw new ProviderError(ErrorCode.SandboxGone, 'sandbox has no endpoint', { details: { sandboxId: sandbox.id } });
    return { baseUrl: sandbox.endpoint, token: sandbox.token ?? null };
  }

  createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    return this.sessions.create(this.target(sandbox), req);
  }

  sessionIdOf(tab: string, attempt: number): string {
    return sessionIdFor(tab, attempt);
  }

  destroySession(sandbox: SandboxRef, sessionId: string): Promise<void> {
    return this.sessions.destroy(this.target(sandbox), sessionId);
  }

  sessionExists(sandbox: SandboxRef, sessionId: string): Promise<boolean> {
    return this.sessions.exists(this.target(sandbox), sessionId);
  }

  listSessions(sandbox: SandboxRef): Promise<string[]> {
    return this.sessions.list(this.target(sandbox));
  }

  /** Nothing to release: sandboxes are detached processes and clients are per call. */
  async close(): Promise<void> {}
}
