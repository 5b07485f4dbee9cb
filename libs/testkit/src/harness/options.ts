import type { NatsConnection } from '@nats-io/transport-node';
import type { Config, Logger } from '@tabmesh/runtime';
import type { NatsServerOptions } from '../nats-server.js';
import { type MeshHost, ServiceName } from '../service-process.js';

/** The four kinds of service, as `setup()` counts them and keeps their in-process handles. */
export type ServiceKind = 'tabRegistry' | 'provisioner' | 'sessionCreator' | 'gateway';
export const ServiceKinds: readonly ServiceKind[] = ['tabRegistry', 'provisioner', 'sessionCreator', 'gateway'];

/** The process (and `services/<name>`) of each kind. */
export const processName: Record<ServiceKind, ServiceName> = {
  tabRegistry: ServiceName.TabRegistry,
  provisioner: ServiceName.Provisioner,
  sessionCreator: ServiceName.SessionCreator,
  gateway: ServiceName.Gateway,
};

export type Stoppable = { stop(): Promise<void> };
export type Closable = { close(): Promise<void> };
/** What the harness needs of a gateway: its bound ports, to wait for `/readyz` and hand out URLs. */
export type GatewayLike = Stoppable & { httpPort: number; wsPort: number };

/** What an in-process starter gets: the mesh's config, a logger named after the service, the shared provider. */
export type StartContext<P> = { config: Config; logger: Logger; provider: P | undefined };
export type Starter<P, H extends Stoppable = Stoppable> = (ctx: StartContext<P>) => Promise<H>;

/**
 * How to start each service in this process. testkit cannot import the services (they depend on
 * it for their own tests), so whoever runs them in-process passes their start functions here:
 * `@tabmesh/harness` for the four, a service's own tests for itself.
 */
export type InProcessServices<P = never> = {
  /** The provider the in-process workers share when the mesh runs `sim` (so one ledger sees all). */
  sim?: (config: Config) => P;
  tabRegistry?: Starter<P>;
  provisioner?: Starter<P>;
  sessionCreator?: Starter<P>;
  gateway?: Starter<P, GatewayLike>;
};

// biome-ignore lint/suspicious/noExplicitAny: the bound of any provider type
export type AnyInProcess = InProcessServices<any>;

export type NatsChoice =
  /** One fresh nats-server on a free port with a temp store (default). */
  | 'single'
  /** A fresh 3-node JetStream cluster. */
  | 'cluster'
  | { cluster: number }
  /** A server somebody else runs; left running at the end. */
  | { url: string };

export type ProviderChoice<P> =
  /** In-process: one sim provider from `inProcess.sim`; processes: each its own, ledger in KV. */
  | 'sim'
  /** The real sandbox-agent binary; every worker builds its own from the environment, as in production. */
  | 'local'
  /** This provider, shared by the in-process workers. */
  | P
  /** Built once the mesh is connected (for providers that keep records in JetStream). */
  | ((nc: NatsConnection, config: Config) => Promise<P>);

export type ProcessOptions = {
  /** Copy every child's output to stderr (default: `FAULT_ECHO=1`). */
  echo?: boolean;
  /** One `<label>.log` per child in this directory. */
  logDir?: string;
  maxLogLines?: number;
  /** Off: output only to the log files, not read by this process (load generators). */
  captureLogs?: boolean;
  /** Node options per service, e.g. `--cpu-prof`. */
  nodeArgs?: (service: ServiceName | typeof MeshHost, label: string) => string[];
};

export type SetupOptions<S, P> = {
  nats?: NatsChoice;
  /** Options of the one nats-server of `nats: 'single'` (a cluster or a given URL has none). */
  natsServer?: Pick<NatsServerOptions, 'monitor'>;
  /** How the services counted in `services` start: in this process (default) or as child processes. */
  mode?: 'in-process' | 'process';
  /** How many of each to start; defaults: one tab-registry, provisioner and session-creator, no gateway. */
  services?: Partial<Record<ServiceKind, number>>;
  provider?: ProviderChoice<P>;
  /** Over the harness's environment (test timings, loopback ports, NATS_URL). */
  env?: Record<string, string>;
  /**
   * The harness's test timings (short waits and retries, sim latencies; `*TestEnv` in
   * test-config.ts). Off, services run with their own defaults plus `env`, as a benchmark wants.
   */
  testDefaults?: boolean;
  inProcess?: S;
  processes?: ProcessOptions;
};

export const defaultCounts: Record<ServiceKind, number> = {
  tabRegistry: 1,
  provisioner: 1,
  sessionCreator: 1,
  gateway: 0,
};
