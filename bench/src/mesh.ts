import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Streams } from '@tabmesh/contracts';
import { ensureBus, loadConfig, type Bus } from '@tabmesh/runtime';
import { NatsServer } from '@tabmesh/testkit';
import { Child } from './children.js';
import { cpuSeconds } from './machine.js';
import type { OpenLoopResult } from './open-loop.js';
import { sleep } from './stats.js';

export const Service = {
  Gateway: 'gateway',
  TabRegistry: 'tab-registry',
  Provisioner: 'provisioner',
  SessionCreator: 'session-creator',
} as const;
export type Service = (typeof Service)[keyof typeof Service];

const readyText: Record<Service, string> = {
  gateway: '"msg":"gateway started"',
  'tab-registry': '"msg":"tab-registry ready"',
  provisioner: '"msg":"provisioner ready"',
  'session-creator': '"msg":"session-creator ready"',
};

export type MeshSettings = {
  logDir: string;
  /** Environment for every service (sim latencies, concurrency). */
  env: Record<string, string>;
  /** Services to profile with --cpu-prof, and where the profiles go. */
  profile?: { dir: string; services: Service[] };
};

/** A fresh nats-server and tabmesh services as separate processes, as they run in production. */
export class BenchMesh {
  readonly children = new Map<string, Child>();
  private counter = 0;

  private constructor(
    readonly server: NatsServer,
    readonly nc: NatsConnection,
    readonly bus: Bus,
    private readonly settings: MeshSettings,
  ) {}

  static async start(settings: MeshSettings): Promise<BenchMesh> {
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url, name: 'bench' });
    const bus = await ensureBus(nc, loadConfig({ NATS_URL: server.url, ...settings.env }));
    return new BenchMesh(server, nc, bus, settings);
  }

  get url(): string {
    return this.server.url;
  }

  /** Starts services in parallel; returns them in the order asked. */
  async add(...services: Service[]): Promise<Child[]> {
    return Promise.all(
      services.map(async (service) => {
        const label = `${service}-${++this.counter}`;
        const profiled = this.settings.profile?.services.includes(service);
        const child = await Child.start({
          label,
          script: `services/${service}/src/main.ts`,
          env: {
            NATS_URL: this.server.url,
            TABMESH_PROVIDER: 'sim',
            GATEWAY_HTTP_PORT: '0',
            GATEWAY_WS_PORT: '0',
            GATEWAY_HOST: '127.0.0.1',
            TABMESH_OPS_PORT: '0',
            ...this.settings.env,
          },
          readyText: readyText[service],
          logDir: this.settings.logDir,
          ...(profiled ? { cpuProfDir: this.settings.profile!.dir } : {}),
        });
        this.children.set(label, child);
        return child;
      }),
    );
  }

  /** CPU seconds used so far by nats-server, each service and this process. */
  cpu(extra: Child[] = []): Record<string, number> {
    const out: Record<string, number> = { 'nats-server': cpuSeconds(this.server.pid!), bench: cpuSeconds(process.pid) };
    for (const child of [...this.children.values(), ...extra]) out[child.label] = cpuSeconds(child.pid);
    return out;
  }

  /** Runs `fn` and returns, with its result, the CPU seconds each process used meanwhile. */
  async measureCpu<T>(fn: () => Promise<T>, extra: Child[] = []): Promise<{ value: T; cpu: Record<string, number>; wallSeconds: number }> {
    const before = this.cpu(extra);
    const t = performance.now();
    const value = await fn();
    const wallSeconds = (performance.now() - t) / 1000;
    const after = this.cpu(extra);
    const cpu: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) cpu[k] = Math.round((v - (before[k] ?? 0)) * 100) / 100;
    return { value, cpu, wallSeconds: Math.round(wallSeconds * 100) / 100 };
  }

  /**
   * Waits until both work queues are empty and nothing is in flight (at most `timeoutMs`), then a
   * second more; returns how long it waited.
   */
  async settle(timeoutMs = 60_000): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      const busy = await Promise.all(
        [Streams.provision, Streams.sessions].map(async (s) => {
          const c = await this.bus.jsm.consumers.info(s.name, s.consumer);
          return c.num_pending + c.num_ack_pending;
        }),
      );
      if (busy.every((n) => n === 0)) break;
      await sleep(250);
    }
    await sleep(1000);
    return Date.now() - start;
  }

  /** Runs an open-loop phase and adds the CPU each process spent per request. */
  async withCpu(run: () => Promise<OpenLoopResult>, ...extra: Child[]): Promise<OpenLoopResult> {
    const { value, cpu } = await this.measureCpu(run, extra);
    return { ...value, cpuMsPerRequest: perRequest(cpu, value.sent) };
  }

  async remove(child: Child): Promise<void> {
    await child.stop();
    this.children.delete(child.label);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.children.values()].map((c) => c.stop()));
    this.children.clear();
    await this.nc.close();
    await this.server.stop();
  }
}

/** The gateway's bound ports, from its "gateway started" log line. */
export function gatewayPorts(gateway: Child): { httpPort: number; wsPort: number } {
  const line = gateway.logLine('gateway started');
  if (!line || typeof line.httpPort !== 'number' || typeof line.wsPort !== 'number') {
    throw new Error(`${gateway.label}: no ports in its "gateway started" line`);
  }
  return { httpPort: line.httpPort, wsPort: line.wsPort };
}

/** CPU seconds per process over `n` requests → CPU milliseconds per request, by process kind. */
export function perRequest(cpu: Record<string, number>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, seconds] of Object.entries(cpu)) {
    const kind = label.replace(/-\d+$/, '');
    out[kind] = Math.round(((out[kind] ?? 0) + (seconds * 1000) / n) * 1000) / 1000;
  }
  return out;
}
