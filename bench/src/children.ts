import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@tabmesh/testkit';
import { sleep } from './stats.js';

export type ChildOptions = {
  label: string;
  /** Script path relative to the repository root, run with `node --import tsx`. */
  script: string;
  env: Record<string, string>;
  /** A pino `msg` (or any text) whose appearance in the output means ready. */
  readyText: string;
  logDir: string;
  /** Write a V8 CPU profile into this directory when the process exits. */
  cpuProfDir?: string;
  timeoutMs?: number;
};

/**
 * A tabmesh service (or a bench helper) as its own process. Its output goes to a file, not a pipe,
 * so reading logs costs the load generator nothing; readiness is found by reading that file.
 */
export class Child {
  readonly exited: Promise<void>;
  private constructor(
    readonly label: string,
    readonly proc: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((r) => proc.once('exit', () => r()));
  }

  static async start(opts: ChildOptions): Promise<Child> {
    const logFile = join(opts.logDir, `${opts.label}.log`);
    const fd = openSync(logFile, 'w');
    const args = ['--import', 'tsx'];
    // One directory per process: the main thread and tsx's loader thread each write a profile there.
    if (opts.cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${join(opts.cpuProfDir, opts.label)}`);
    args.push(join(repoRoot, opts.script));
    const proc = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info', ...opts.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const child = new Child(opts.label, proc, logFile);
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const text = readFileSync(logFile, 'utf8');
      if (text.includes(opts.readyText)) return child;
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${opts.label} exited before ready:\n${text.slice(-2000)}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`${opts.label}: not ready within ${opts.timeoutMs ?? 60_000} ms:\n${text.slice(-2000)}`);
      }
      await sleep(50);
    }
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The first JSON log line whose msg is `msg`. */
  logLine(msg: string): Record<string, unknown> | null {
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.msg === msg) return parsed;
      } catch {
        // not a log line
      }
    }
    return null;
  }

  /** SIGTERM (a graceful stop that also writes the CPU profile), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    this.proc.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}
