import { join } from 'node:path';
import { Streams } from '@tabmesh/contracts';
import type { Bus } from '@tabmesh/runtime';
import { type Mesh, type MeshHost, ServiceName, type ServiceProcess, setup } from '@tabmesh/testkit';
import { type ConnzSnapshot, connz } from './bus-traffic.js';
import { stopOnCrash } from './crash-stop.js';
import { cpuSeconds, cpuSpent, type KernelCounters, kernelCounters, kernelSpent, mapValues } from './machine.js';
import type { OpenLoopResult } from './open-loop.js';
import { sleep } from './stats.js';

/** Any process whose CPU a measurement adds (the floor server, say). */
type Measured = { label: string; pid: number };

export type MeshSettings = {
  logDir: string;
  /** Environment for every service (sim latencies, concurrency). */
  env: Record<string, string>;
  /** Services (or the mesh host) to profile with --cpu-prof, and where the profiles go. */
  profile?: { dir: string; services: Array<ServiceName | typeof MeshHost>; prefix?: string };
};

/**
 * A fresh nats-server and tabmesh services as separate processes, as they run in production: the
 * harness's `setup()` without its test timings, each child's output straight into its log file so
 * reading logs costs the load generator nothing.
 */
export class BenchMesh {
  private readonly forget: () => void;

  private constructor(readonly mesh: Mesh) {
    this.forget = stopOnCrash(() => mesh.stop());
  }

  static async start(settings: MeshSettings): Promise<BenchMesh> {
    const profile = settings.profile;
    const mesh = await setup({
      mode: 'process',
      testDefaults: false,
      natsServer: { monitor: true },
      provider: 'sim',
      services: { tabRegistry: 0, provisioner: 0, sessionCreator: 0, gateway: 0 },
      env: settings.env,
      processes: {
        logDir: settings.logDir,
        captureLogs: false,
        // One directory per process: the main thread and tsx's loader thread each write a profile there.
        nodeArgs: (service, label) =>
          profile?.services.includes(service)
            ? ['--cpu-prof', `--cpu-prof-dir=${join(profile.dir, `${profile.prefix ?? ''}${label.replace('#', '-')}`)}`]
            : [],
      },
    });
    return new BenchMesh(mesh);
  }

  get url(): string {
    return this.mesh.natsUrl;
  }

  /** NATS_USER / NATS_PASSWORD of the bench's own identity, for a helper process of the bench. */
  get adminEnv(): Record<string, string> {
    return this.mesh.server?.adminEnv ?? {};
  }

  get nc(): Mesh['nc'] {
    return this.mesh.nc;
  }

  get bus(): Bus {
    return this.mesh.bus;
  }

  /** Starts services in parallel; returns them in the order asked. */
  add(...services: ServiceName[]): Promise<ServiceProcess[]> {
    return Promise.all(services.map((service) => this.mesh.spawn(service)));
  }

  /** The four services, in parallel; returns the gateway. */
  async addAll(): Promise<ServiceProcess> {
    const [gateway] = await this.add(
      ServiceName.Gateway,
      ServiceName.TabRegistry,
      ServiceName.Provisioner,
      ServiceName.SessionCreator,
    );
    return gateway!;
  }

  /**
   * The four services in one process, as `pnpm start` runs them (scripts/mesh-host.ts); returns it,
   * which serves the gateway's ports.
   */
  addHost(): Promise<ServiceProcess<typeof MeshHost>> {
    return this.mesh.spawnHost();
  }

  /** HTTP and WebSocket addresses of a gateway process (or of a mesh host). */
  gatewayUrls(gateway: ServiceProcess<string>): { http: string; ws: string } {
    return this.mesh.gatewayUrls(gateway);
  }

  /** nats-server, each service and this process, by label. */
  private pids(extra: Measured[]): Record<string, number> {
    const out: Record<string, number> = { 'nats-server': this.mesh.server!.pid!, bench: process.pid };
    const hosts = this.mesh.hosts.filter((h) => h.running);
    for (const child of [...this.mesh.running(), ...hosts, ...extra]) out[child.label] = child.pid;
    return out;
  }

  /** CPU seconds used so far by nats-server, each service and this process. */
  cpu(extra: Measured[] = []): Record<string, number> {
    return mapValues(this.pids(extra), cpuSeconds);
  }

  /**
   * Runs `fn` and returns, with its result, the CPU seconds each process used meanwhile, and what
   * the kernel did for each (read and write calls, context switches).
   */
  async measureCpu<T>(
    fn: () => Promise<T>,
    extra: Measured[] = [],
  ): Promise<{ value: T; cpu: Record<string, number>; kernel: Record<string, KernelCounters>; wallSeconds: number }> {
    const kernelBefore = mapValues(this.pids(extra), kernelCounters);
    const before = this.cpu(extra);
    const t = performance.now();
    const value = await fn();
    const wallSeconds = (performance.now() - t) / 1000;
    const cpu = cpuSpent(before, this.cpu(extra));
    const kernel = kernelSpent(kernelBefore, mapValues(this.pids(extra), kernelCounters));
    return { value, cpu, kernel, wallSeconds: Math.round(wallSeconds * 100) / 100 };
  }

  /**
   * `measureCpu` with the bus connections' counters read just outside its window, so building
   * `/connz` adds nothing to nats-server's CPU.
   */
  async measureCpuAndBus<T>(fn: () => Promise<T>): Promise<{
    value: T;
    cpu: Record<string, number>;
    kernel: Record<string, KernelCounters>;
    bus: { before: ConnzSnapshot; after: ConnzSnapshot };
  }> {
    const monitorUrl = this.mesh.server?.monitorUrl;
    if (!monitorUrl) throw new Error('the mesh nats-server has no monitoring port');
    const before = await connz(monitorUrl);
    const { value, cpu, kernel } = await this.measureCpu(fn);
    return { value, cpu, kernel, bus: { before, after: await connz(monitorUrl) } };
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
  async withCpu(run: () => Promise<OpenLoopResult>, ...extra: Measured[]): Promise<OpenLoopResult> {
    const { value, cpu } = await this.measureCpu(run, extra);
    return { ...value, cpuMsPerRequest: perRequest(cpu, value.sent) };
  }

  /** Graceful stop (which also writes a CPU profile), SIGKILL after 15 s. */
  async remove(child: ServiceProcess): Promise<void> {
    await child.stop(15_000);
  }

  stop(): Promise<void> {
    this.forget();
    return this.mesh.stop();
  }
}

/** A process's kind from its label: `provisioner#2` and `reference-1` are a provisioner and the reference. */
const kindOf = (label: string): string => label.replace(/[#-]\d+$/, '');

/** CPU seconds per process over `n` requests → CPU milliseconds per request, by process kind. */
export function perRequest(cpu: Record<string, number>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, seconds] of Object.entries(cpu)) {
    const kind = kindOf(label);
    out[kind] = Math.round(((out[kind] ?? 0) + (seconds * 1000) / n) * 1000) / 1000;
  }
  return out;
}

/** Kernel counters per process over `n` requests → per request, by process kind, to 0.1. */
export function kernelPerRequest(kernel: Record<string, KernelCounters>, n: number): Record<string, KernelCounters> {
  const out: Record<string, KernelCounters> = {};
  for (const [label, k] of Object.entries(kernel)) {
    const kind = kindOf(label);
    const sum = out[kind] ?? { ioCalls: 0, switches: 0 };
    out[kind] = { ioCalls: sum.ioCalls + k.ioCalls / n, switches: sum.switches + k.switches / n };
  }
  return mapValues(out, (k) => ({
    ioCalls: Math.round(k.ioCalls * 10) / 10,
    switches: Math.round(k.switches * 10) / 10,
  }));
}
