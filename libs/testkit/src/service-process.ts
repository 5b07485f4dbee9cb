import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ServiceName } from '@tabmesh/contracts';
import { MeshHostName, type ReadySignal, waitForReadySignal } from '@tabmesh/runtime';

/** The repository root, where `services/<name>/src/main.ts` lives. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export { ServiceName };

/** What a mesh host (scripts/mesh-host.ts: the four services in one process) announces itself as. */
export const MeshHost = MeshHostName;

/** One pino JSON line; non-JSON output is kept as `{ msg: line, raw: true }`. */
export type LogLine = { msg?: string; level?: number; [key: string]: unknown };

export type ServiceProcessOptions<N extends string = ServiceName> = {
  /** A `ServiceName`, or the name of whatever `script` runs (any process that calls `announceReady`). */
  service: N;
  /** Another entry point than `services/<service>/src/main.ts`, relative to the repository root. */
  script?: string;
  /**
   * The service whose ready signal means ready; any, by default. In a mesh host each service sends
   * its own signal, and the host sends one more once all are up.
   */
  readyFrom?: string;
  env: Record<string, string>;
  /** Node options before the script (`--cpu-prof`, say). */
  nodeArgs?: string[];
  /** Label in error messages, e.g. `provisioner#2`. */
  label?: string;
  readyTimeoutMs?: number;
  /** Log lines kept in memory (oldest dropped first). */
  maxLogLines?: number;
  /** Copy the child's output to this process's stderr. */
  echo?: boolean;
  /** Also append every output line to this file (all of it, whatever `maxLogLines`). */
  logFile?: string;
  /**
   * Read the output into `logs` (default). Off, it goes straight into `logFile` and costs this
   * process nothing, for load generators; `logs` then stays empty.
   */
  captureLogs?: boolean;
};

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * A tabmesh service as a real child process (`node --import tsx services/<name>/src/main.ts`):
 * spawned with an IPC channel, ready when it sends its ready signal (`announceReady`), keeps its JSON
 * log lines for tests that read them, and takes signals (SIGKILL for a crash, SIGSTOP/SIGCONT for a
 * stall, SIGTERM for a graceful stop).
 */
export class ServiceProcess<N extends string = ServiceName> {
  readonly logs: LogLine[] = [];
  readonly label: string;
  /** The ports the service announced it listens on (the gateway's `http` and `ws`). */
  ports: Record<string, number> = {};
  private readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private readonly listeners = new Set<(line: LogLine) => void>();
  private readonly file: WriteStream | null;

  private constructor(
    readonly service: N,
    private readonly proc: ChildProcess,
    private readonly opts: ServiceProcessOptions<N>,
  ) {
    this.label = opts.label ?? service;
    this.file = opts.logFile && (opts.captureLogs ?? true) ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
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

  /** Spawns the service and resolves once it signalled ready. */
  static async start<N extends string = ServiceName>(opts: ServiceProcessOptions<N>): Promise<ServiceProcess<N>> {
    const script = join(repoRoot, opts.script ?? join('services', opts.service, 'src', 'main.ts'));
    const captured = opts.captureLogs ?? true;
    let out: 'pipe' | number = 'pipe';
    if (!captured) {
      if (!opts.logFile) throw new Error(`${opts.label ?? opts.service}: captureLogs off needs a logFile`);
      out = openSync(opts.logFile, 'a');
    }
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script], {
      cwd: repoRoot,
      // Ops listeners on ephemeral ports: many services of one kind share this machine.
      env: { ...process.env, LOG_LEVEL: 'info', TABMESH_OPS_PORT: '0', ...opts.env },
      stdio: ['ignore', out, out, 'ipc'],
    });
    if (typeof out === 'number') closeSync(out);
    const sp = new ServiceProcess(opts.service, proc, opts);
    try {
      sp.ports = (await sp.readySignal(opts.readyTimeoutMs ?? 60_000)).ports;
    } catch (err) {
      sp.proc.kill('SIGKILL');
      throw err;
    }
    return sp;
  }

  private readySignal(timeoutMs: number): Promise<ReadySignal> {
    const from = this.opts.readyFrom;
    return waitForReadySignal(this.proc, { timeoutMs, ...(from ? { service: from } : {}) }).catch((err: Error) => {
      throw new Error(`${this.label} ${err.message}${this.tail()}`);
    });
  }

  get pid(): number {
    const pid = this.proc.pid;
    // Node leaves pid unset only when the spawn itself failed.
    if (pid === undefined) throw new Error(`${this.label}: has no pid (the process did not spawn)`);
    return pid;
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
      const timer = setTimeout(
        () =>
          done(() => reject(new Error(`${this.label}: no log line "${what}" within ${timeoutMs} ms${this.tail()}`))),
        timeoutMs,
      );
      this.listeners.add(listener);
      void this.exited.then((exit) =>
        done(() =>
          reject(
            new Error(`${this.label} exited (${exit.signal ?? exit.code}) before logging "${what}"${this.tail()}`),
          ),
        ),
      );
    });
  }

  private tail(): string {
    const lines = this.logs.length ? this.logs.map((l) => JSON.stringify(l)) : this.fileLines();
    const last = lines.slice(-8).join('\n  ');
    return last ? `; last lines:\n  ${last}` : '';
  }

  private fileLines(): string[] {
    if (!this.opts.logFile) return [];
    try {
      return readFileSync(this.opts.logFile, 'utf8').trimEnd().split('\n');
    } catch {
      return [];
    }
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
    if (this.exit !== null) return this.exit;
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
    if (this.exit !== null) return this.exit;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await this.kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }
}
