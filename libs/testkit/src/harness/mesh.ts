import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { BusIdentities, type BusIdentity } from '@tabmesh/contracts';
import { type Bus, type Config, createLogger, type Logger, loadConfig } from '@tabmesh/runtime';
import { TestAdminUser, type TestBusUsers } from '../bus-users.js';
import type { NatsCluster } from '../nats-cluster.js';
import type { NatsServer } from '../nats-server.js';
import { MeshHost, type ServiceName, ServiceName as ServiceNames, ServiceProcess } from '../service-process.js';
import { testToken } from '../test-token.js';
import { BusOps } from './bus-ops.js';
import {
  type AnyInProcess,
  type GatewayLike,
  type ProcessOptions,
  processName,
  type ServiceKind,
  type Stoppable,
} from './options.js';
import { waitForReadyz } from './readyz.js';

/** The handle type an in-process starter of `K` returns. */
export type HandleOf<S, K extends ServiceKind> = S extends { [k in K]?: (...args: never[]) => Promise<infer H> }
  ? H
  : never;
export type Handles<S> = { [K in ServiceKind]: HandleOf<S, K>[] };

export type Urls = { http: string; ws: string };
type SpawnOptions = { maxLogLines?: number; logDir?: string };
/** The gateway's addresses; the WebSocket one carries a test token for every org (browsers' way). */
const urls = (http: number, ws: number): Urls => ({
  http: `http://127.0.0.1:${http}`,
  ws: `ws://127.0.0.1:${ws}/v1/ws?access_token=${testToken()}`,
});

/**
 * What `setup()` started: nats-server (or cluster), the services (in this process, as child
 * processes, or both), a connection of the test's own with the streams and buckets bound, and the
 * shared provider. `stop()` (or `await using`) ends all of it, the services first so they drain.
 */
export class Mesh<S extends AnyInProcess = AnyInProcess, P = unknown> extends BusOps {
  readonly handles = { tabRegistry: [], provisioner: [], sessionCreator: [], gateway: [] } as unknown as Handles<S>;
  readonly processes: ServiceProcess[] = [];
  /** Mesh hosts (all four services in one child process), see spawnHost. */
  readonly hosts: ServiceProcess<typeof MeshHost>[] = [];
  private counter = 0;
  private stopped = false;

  constructor(
    /** The URL(s) services connect to, comma-separated for a cluster. */
    readonly natsUrl: string,
    /** The nats-server this mesh owns, unless it runs a cluster or a given URL. */
    readonly server: NatsServer | null,
    readonly cluster: NatsCluster | null,
    /** The bus users of the mesh's nats-server; null for an open server (a given URL). */
    readonly users: TestBusUsers | null,
    /** The environment services start with (config in-process, process environment for children). */
    readonly env: Record<string, string>,
    readonly config: Config,
    nc: NatsConnection,
    bus: Bus,
    private readonly sharedProvider: P | undefined,
    private readonly inProcess: S | undefined,
    private readonly processOptions: ProcessOptions,
  ) {
    super(nc, bus);
  }

  /** The provider shared by the in-process workers (the sim one unless the test gave its own). */
  get provider(): P {
    if (this.sharedProvider === undefined)
      throw new Error('this mesh has no shared provider (services build their own)');
    return this.sharedProvider;
  }

  /** The first in-process gateway. */
  get gateway(): HandleOf<S, 'gateway'> {
    const gw = this.handles.gateway[0];
    if (!gw) throw new Error('this mesh runs no in-process gateway');
    return gw;
  }

  logger(name: string): Logger {
    return createLogger(name, this.config.LOG_LEVEL);
  }

  /** Starts one more `kind` in this process; a gateway is returned once its `/readyz` says ready. */
  async start<K extends ServiceKind>(kind: K): Promise<HandleOf<S, K>> {
    const starter = this.inProcess?.[kind];
    if (!starter) throw new Error(`no in-process starter for ${kind}: pass inProcess to setup()`);
    const handle = (await starter({
      config: this.configOf(processName[kind]),
      logger: this.logger(kind),
      provider: this.sharedProvider as never,
    })) as Stoppable;
    (this.handles[kind] as Stoppable[]).push(handle);
    if (kind === 'gateway') await waitForReadyz(`http://127.0.0.1:${(handle as GatewayLike).httpPort}`);
    return handle as HandleOf<S, K>;
  }

  /** Starts one more `service` as a child process, ready once it sent its ready signal; `env` wins over the mesh's. */
  async spawn(
    service: ServiceName,
    env: Record<string, string> = {},
    opts: SpawnOptions = {},
  ): Promise<ServiceProcess> {
    const label = `${service}#${++this.counter}`;
    const p = await ServiceProcess.start({
      service,
      env: { ...this.env, ...this.userEnv(service), ...env },
      ...this.childOptions(service, label, opts),
    });
    this.processes.push(p);
    if (service === 'gateway') await waitForReadyz(this.gatewayUrls(p).http);
    return p;
  }

  /**
   * Starts the four services together in one child process (scripts/mesh-host.ts), the way
   * `pnpm start` runs them, each with its own bus user; ready once all four are and the gateway answers.
   */
  async spawnHost(env: Record<string, string> = {}, opts: SpawnOptions = {}): Promise<ServiceProcess<typeof MeshHost>> {
    const label = `${MeshHost}#${++this.counter}`;
    const hosted = Object.fromEntries(Object.values(ServiceNames).map((s) => [s, this.userEnv(s)]));
    const p = await ServiceProcess.start({
      service: MeshHost,
      script: join('scripts', 'mesh-host.ts'),
      readyFrom: MeshHost,
      env: { ...this.env, ...env, TABMESH_HOSTED_ENV: JSON.stringify(hosted) },
      ...this.childOptions(MeshHost, label, opts),
    });
    this.hosts.push(p);
    await waitForReadyz(this.gatewayUrls(p).http);
    return p;
  }

  private childOptions(name: ServiceName | typeof MeshHost, label: string, opts: SpawnOptions) {
    const o = { ...this.processOptions, ...opts };
    return {
      label,
      echo: o.echo ?? process.env.FAULT_ECHO === '1',
      ...(o.maxLogLines ? { maxLogLines: o.maxLogLines } : {}),
      ...(o.logDir ? { logFile: join(o.logDir, `${label.replace('#', '-')}.log`) } : {}),
      ...(o.captureLogs === false ? { captureLogs: false } : {}),
      ...(o.nodeArgs ? { nodeArgs: o.nodeArgs(name, label) } : {}),
    };
  }

  /** Connection options of the test's own identity (`admin`; none on an open server). */
  get adminAuth(): { user?: string; pass?: string } {
    return this.users ? this.users.connectOptions(TestAdminUser) : {};
  }

  /** The environment that makes `service` connect as its own bus user (nothing on an open server). */
  userEnv(service: string): Record<string, string> {
    const identity = BusIdentities.find((i): i is BusIdentity => i === service);
    return this.users && identity ? this.users.env(identity) : {};
  }

  /** The configuration of an in-process `service`: the mesh's, with the service's own bus user. */
  configOf(service: string): Config {
    const user = this.userEnv(service);
    return Object.keys(user).length ? loadConfig({ ...this.env, ...user }) : this.config;
  }

  /** Child processes still running, of one service or all. */
  running(service?: ServiceName): ServiceProcess[] {
    return this.processes.filter((p) => p.running && (!service || p.service === service));
  }

  /** HTTP and WebSocket addresses of a gateway: a child process, or the first (or `i`-th) in-process one. */
  gatewayUrls(gateway: ServiceProcess<string> | number = 0): Urls {
    if (gateway instanceof ServiceProcess) {
      const { http, ws } = gateway.ports;
      if (http === undefined || ws === undefined) throw new Error(`${gateway.label} announced no http and ws ports`);
      return urls(http, ws);
    }
    const gw = this.handles.gateway[gateway] as GatewayLike | undefined;
    if (gw) return urls(gw.httpPort, gw.wsPort);
    const proc = this.processes.filter((p) => p.service === 'gateway')[gateway];
    if (!proc) throw new Error(`this mesh runs no gateway #${gateway}`);
    return this.gatewayUrls(proc);
  }

  /** Stops everything this mesh started: gateways, the other services, processes, the provider, the connection, nats. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const h = this.handles as Record<ServiceKind, Stoppable[]>;
    await Promise.allSettled(h.gateway.map((g) => g.stop()));
    await Promise.allSettled([
      ...[...h.tabRegistry, ...h.provisioner, ...h.sessionCreator].map((s) => s.stop()),
      ...[...this.processes, ...this.hosts].map((p) => p.stop(10_000)),
    ]);
    const provider = this.sharedProvider as { close?: () => Promise<void> } | undefined;
    await provider?.close?.().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
    await this.server?.stop();
    await this.cluster?.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
