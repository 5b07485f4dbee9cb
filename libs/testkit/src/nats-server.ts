import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusIdentity } from '@tabmesh/contracts';
import { freePort, launchNatsServer } from '@tabmesh/nats-launcher';
import { TestAdminUser, TestBusUsers } from './bus-users.js';

const setupEnv = (password: string): Record<string, string> => ({
  NATS_SETUP_USER: BusIdentity.Setup,
  NATS_SETUP_PASSWORD: password,
});

export type NatsServerOptions = {
  port?: number;
  storeDir?: string;
  /** Extra command-line arguments (cluster routes, a config file, …). */
  args?: string[];
  /** Print the server's output; off by default to keep test output readable. */
  verbose?: boolean;
  /**
   * The bus users (default: a fresh set): every service kind with its allow-lists, `setup`, and a
   * test `admin`; anonymous connections are refused. `false` runs an open server (anonymous).
   */
  users?: TestBusUsers | false;
  /** Serve nats-server's HTTP monitoring (`/connz`, `/varz`, …) on a free port, at `monitorUrl`. */
  monitor?: boolean;
};

/** A nats-server child process with JetStream, on its own port and store. */
export class NatsServer {
  private proc: ChildProcess | null = null;
  private readonly ownsStore: boolean;
  readonly storeDir: string;
  /** Who may connect; null for an open server. */
  readonly users: TestBusUsers | null;
  private readonly confDir: string | null;

  private constructor(
    readonly port: number,
    storeDir: string | undefined,
    private readonly opts: NatsServerOptions,
    /** The HTTP monitoring port; null unless `monitor` was asked for. */
    readonly monitorPort: number | null = null,
  ) {
    this.ownsStore = !storeDir;
    this.storeDir = storeDir ?? mkdtempSync(join(tmpdir(), 'tabmesh-nats-'));
    this.users = opts.users === false ? null : (opts.users ?? new TestBusUsers());
    this.confDir = this.users ? mkdtempSync(join(tmpdir(), 'tabmesh-nats-conf-')) : null;
    if (this.users && this.confDir)
      writeFileSync(join(this.confDir, 'users.conf'), this.users.renderConfig(), { mode: 0o600 });
  }

  /**
   * The environment of a service started on its own against this server: its bus user, plus the
   * `setup` identity so it sets the bus up itself first (nothing on an open server).
   */
  serviceEnv(identity: BusIdentity): Record<string, string> {
    if (!this.users) return {};
    return { ...this.users.env(identity), ...setupEnv(this.users.password(BusIdentity.Setup)) };
  }

  /** The environment of generic test code run as a service (lifecycle tests): `admin`, which may set the bus up too. */
  get adminEnv(): Record<string, string> {
    if (!this.users) return {};
    const pw = this.users.password(TestAdminUser);
    return { NATS_USER: TestAdminUser, NATS_PASSWORD: pw, NATS_SETUP_USER: TestAdminUser, NATS_SETUP_PASSWORD: pw };
  }

  /** Connection options of the test's own identity (`admin`; none on an open server). */
  get adminAuth(): { user?: string; pass?: string } {
    return this.users ? this.users.connectOptions(TestAdminUser) : {};
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const monitorPort = opts.monitor ? await freePort() : null;
    const server = new NatsServer(opts.port ?? (await freePort()), opts.storeDir, opts, monitorPort);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Base URL of the HTTP monitoring endpoints; null unless `monitor` was asked for. */
  get monitorUrl(): string | null {
    return this.monitorPort === null ? null : `http://127.0.0.1:${this.monitorPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private async launch(): Promise<void> {
    this.proc = await launchNatsServer({
      port: this.port,
      storeDir: this.storeDir,
      args: [
        ...(this.confDir ? ['-c', join(this.confDir, 'users.conf')] : []),
        ...(this.monitorPort === null ? [] : ['-m', String(this.monitorPort)]),
        ...(this.opts.args ?? []),
      ],
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
    if (this.confDir) rmSync(this.confDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
