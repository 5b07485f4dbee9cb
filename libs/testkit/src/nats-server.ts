import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchNatsServer } from '@tabmesh/nats-launcher';

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
    this.proc = await launchNatsServer({
      port: this.port,
      storeDir: this.storeDir,
      args: this.opts.args ?? [],
      output: this.opts.verbose ? 'inherit' : 'ignore',
    });
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
