import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root, where `services/<name>/src/main.ts` lives. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const ServiceName = {
  TabRegistry: 'tab-registry',
  Provisioner: 'provisioner',
  SessionCreator: 'session-creator',
  Gateway: 'gateway',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/** The info line each service logs once it serves. */
const readyMessages: Record<ServiceName, string> = {
  'tab-registry': 'tab-registry ready',
  provisioner: 'provisioner ready',
  'session-creator': 'session-creator ready',
  gateway: 'gateway started',
};

/** One pino JSON line; non-JSON output is kept as `{ msg: line, raw: true }`. */
export type LogLine = { msg?: string; level?: number; [key: string]: unknown };

export type ServiceProcessOptions = {
  service: ServiceName;
  env: Record<string, string>;
  /** Label in error messages, e.g. `provisioner#2`. */
  label?: string;
  readyTimeoutMs?: number;
  /** Log lines kept in memory (oldest dropped first). */
  maxLogLines?: number;
  /** Copy the child's output to this process's stderr. */
  echo?: boolean;
  /** Also append every output line to this file (all of it, whatever `maxLogLines`). */
  logFile?: string;
};

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * A tabmesh service as a real child process (`node --import tsx services/<name>/src/main.ts`), for
 * fault tests: waits for its ready line, keeps its JSON log lines, and takes signals (SIGKILL for a
 * crash, SIGSTOP/SIGCONT for a stall, SIGTERM for a graceful stop).
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  readonly label: string;
  /** The ready line, with whatever the service put on it (the gateway's ports, say). */
  readyLine: LogLine | null = null;
  private readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private readonly listeners = new Set<(line: LogLine) => void>();
  private readonly file: WriteStream | null;

  private constructor(
    readonly service: ServiceName,
    private readonly proc: ChildProcess,
    private readonly opts: ServiceProcessOptions,
  ) {
    this.label = opts.label ?? service;
    this.file = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.file?.end();
        resolve(this.exit);
      }),
    );
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (text) => this.onLine(text));
    }
  }

  /** Spawns the service and resolves once it logged its ready line. */
  static async start(opts: ServiceProcessOptions): Promise<ServiceProcess> {
    const main = join(repoRoot, 'services', opts.service, 'src', 'main.ts');
    const proc = spawn(process.execPath, ['--import', 'tsx', main], {
      cwd: repoRoot,
      // TABMESH_OPS_PORT 0: several services on one machine, each ops listener on a free port.
      env: { ...process.env, LOG_LEVEL: 'info', TABMESH_OPS_PORT: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sp = new ServiceProcess(opts.service, proc, opts);
    try {
      await sp.waitForLog(`${sp.label} ready`, (l) => l.msg === readyMessages[opts.service], opts.readyTimeoutMs ?? 60_000);
    } catch (err) {
      sp.proc.kill('SIGKILL');
      throw err;
    }
    sp.readyLine = sp.logs.find((l) => l.msg === readyMessages[opts.service]) ?? null;
    return sp;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.exit === null;
  }

  private onLine(text: string): void {
    let line: LogLine;
    try {
      line = text.startsWith('{') ? (JSON.parse(text) as LogLine) : { msg: text, raw: true };
    } catch {
      line = { msg: text, raw: true };
    }
    this.logs.push(line);
    const max = this.opts.maxLogLines ?? 20_000;
    if (this.logs.length > max) this.logs.splice(0, this.logs.length - max);
    if (this.opts.echo) process.stderr.write(`${this.label} ${text}\n`);
    this.file?.write(`${text}\n`);
    for (const l of this.listeners) l(line);
  }

  /** Lines whose `msg` is `msg`. */
  lines(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  /** Resolves with the first line (already logged or to come) that matches. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        fn();
      };
      const listener = (line: LogLine) => {
        if (match(line)) done(() => resolve(line));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.label}: no log line "${what}" within ${timeoutMs} ms${this.tail()}`))), timeoutMs);
      this.listeners.add(listener);
      void this.exited.then((exit) =>
        done(() => reject(new Error(`${this.label} exited (${exit.signal ?? exit.code}) before logging "${what}"${this.tail()}`))),
      );
    });
  }

  private tail(): string {
    const last = this.logs.slice(-8).map((l) => JSON.stringify(l)).join('\n  ');
    return last ? `; last lines:\n  ${last}` : '';
  }

  /** Sends a signal; SIGKILL is a crash, SIGSTOP a stall (resume with SIGCONT). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.proc.kill(sig);
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** Sends `sig` and waits for the exit. */
  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (!this.running) return this.exit!;
    // A stopped process does not act on SIGTERM until it runs again.
    if (sig !== 'SIGKILL') this.proc.kill('SIGCONT');
    this.proc.kill(sig);
    return this.exited;
  }

  waitForExit(): Promise<Exit> {
    return this.exited;
  }

  /** Graceful stop: SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<Exit> {
    if (!this.running) return this.exit!;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await this.kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }
}
