import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Finds nats-server on PATH or where Debian installs it. */
export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const d of dirs) {
    const p = join(d, 'nats-server');
    if (d && existsSync(p)) return p;
  }
  throw new Error('nats-server not found: run `bash scripts/setup.sh` (apt-get install nats-server)');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`);
}

export type NatsServerOptions = {
  port?: number;
  storeDir?: string;
  /** Extra command-line arguments (cluster routes, a config file, …). */
  args?: string[];
  /** Print the server's output; off by default to keep test output readable. */
  verbose?: boolean;
};

/** A nats-server child process with JetStream, on its own port and store. */
export class NatsServer {
  private proc: ChildProcess | null = null;
  private readonly ownsStore: boolean;
  readonly storeDir: string;

  private constructor(
    readonly port: number,
    storeDir: string | undefined,
    private readonly opts: NatsServerOptions,
  ) {
    this.ownsStore = !storeDir;
    this.storeDir = storeDir ?? mkdtempSync(join(tmpdir(), 'tabmesh-nats-'));
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(opts.port ?? (await freePort()), opts.storeDir, opts);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async launch(): Promise<void> {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.storeDir, ...(this.opts.args ?? [])];
    const proc = spawn(natsServerBinary(), args, { stdio: ['ignore', this.opts.verbose ? 'inherit' : 'ignore', this.opts.verbose ? 'inherit' : 'ignore'] });
    this.proc = proc;
    await waitForPort(this.port, 10_000, proc);
  }

  /** Sends a signal and waits for the process to exit (SIGKILL simulates a crash). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
    this.proc = null;
  }

  /** Starts again on the same port with the same store. */
  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.ownsStore) rmSync(this.storeDir, { recursive: true, force: true });
  }
}
