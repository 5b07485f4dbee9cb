import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '@tabmesh/nats-launcher';
import { waitForReadySignal } from '@tabmesh/runtime';
import { TestJwtSecret } from '@tabmesh/testkit';
import { Redis } from 'ioredis';
import { stopOnCrash } from '../crash-stop.js';
import { cpuSeconds, cpuSpent, type KernelCounters, kernelCounters, kernelSpent, mapValues } from '../machine.js';

/** The lifecycle baseline's Redis binary (Debian's `redis-server`). */
const RedisServer = '/usr/bin/redis-server';

/**
 * The BullMQ + Redis reference build (server.ts) with a Redis of its own, running for one
 * lifecycle measurement: a fresh Redis (append-only file, fsync every second: a store that keeps
 * what it acknowledged, like the mesh's JetStream file store) and the build in one Node process, or
 * in two (HTTP and WebSocket in one, the queues' workers in the other).
 */
export class ReferenceBuild {
  private constructor(
    private readonly redis: ChildProcess,
    private readonly nodes: ChildProcess[],
    private readonly dir: string,
    private readonly port: number,
    readonly urls: { http: string; ws: string },
  ) {}

  private readonly forget = stopOnCrash(() => this.stop());

  /** `roles`: `['all']` runs the build in one process; `['api', 'workers']` in two. */
  static async start(opts: {
    logDir: string;
    env: Record<string, string>;
    roles: Array<'all' | 'api' | 'workers'>;
  }): Promise<ReferenceBuild> {
    if (!existsSync(RedisServer)) {
      throw new Error(`the BullMQ baseline needs ${RedisServer}: bash scripts/setup.sh --bench`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'tabmesh-reference-'));
    const port = await freePort();
    const redis = spawn(
      RedisServer,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      { stdio: 'ignore' },
    );
    const nodes: ChildProcess[] = [];
    try {
      await waitForPort(port, redis);
      const ports: Record<string, number> = {};
      for (const role of opts.roles) {
        const log = createWriteStream(join(opts.logDir, `reference-${role}.log`));
        const node = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server.ts'), role], {
          env: { ...process.env, ...opts.env, REDIS_PORT: String(port), REFERENCE_JWT_SECRET: TestJwtSecret },
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        });
        nodes.push(node);
        node.stdout?.pipe(log);
        node.stderr?.pipe(log);
        Object.assign(ports, (await waitForReadySignal(node, { timeoutMs: 30_000 })).ports);
      }
      return new ReferenceBuild(redis, nodes, dir, port, {
        http: `http://127.0.0.1:${ports.http}`,
        ws: `ws://127.0.0.1:${ports.ws}/v1/ws`,
      });
    } catch (err) {
      for (const node of nodes) node.kill('SIGKILL');
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Redis, each reference process and this process, by label. */
  private pids(): Record<string, number> {
    const out: Record<string, number> = { 'redis-server': this.redis.pid!, bench: process.pid };
    this.nodes.forEach((node, i) => {
      out[`reference-${i + 1}`] = node.pid!;
    });
    return out;
  }

  /** Commands Redis has run so far (`INFO commandstats`), the `info` calls that ask left out. */
  private async commandsRun(): Promise<number> {
    const client = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true });
    try {
      await client.connect();
      const stats = await client.info('commandstats');
      let calls = 0;
      for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls += Number(m[2]);
      return calls;
    } finally {
      client.disconnect();
    }
  }

  /**
   * Runs `fn` and returns, with its result, the CPU seconds each process used meanwhile and the
   * commands Redis ran (read just outside the CPU window, as the mesh's bus counters are).
   */
  async measure<T>(fn: () => Promise<T>): Promise<{
    value: T;
    cpu: Record<string, number>;
    kernel: Record<string, KernelCounters>;
    bus: null;
    storeCommands: number;
  }> {
    const commandsBefore = await this.commandsRun();
    const kernelBefore = mapValues(this.pids(), kernelCounters);
    const before = mapValues(this.pids(), cpuSeconds);
    const value = await fn();
    const cpu = cpuSpent(before, mapValues(this.pids(), cpuSeconds));
    const kernel = kernelSpent(kernelBefore, mapValues(this.pids(), kernelCounters));
    const storeCommands = (await this.commandsRun()) - commandsBefore;
    return { value, cpu, kernel, bus: null, storeCommands };
  }

  async stop(): Promise<void> {
    this.forget();
    const exited = (p: ChildProcess) =>
      p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', r));
    for (const node of this.nodes) node.kill('SIGTERM');
    await Promise.all(this.nodes.map(exited));
    this.redis.kill('SIGTERM');
    await exited(this.redis);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
