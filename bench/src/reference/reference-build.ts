import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '@tabmesh/nats-launcher';
import { waitForReadySignal } from '@tabmesh/runtime';
import { TestJwtSecret } from '@tabmesh/testkit';
import { cpuSeconds } from '../machine.js';

/** The lifecycle baseline's Redis binary (Debian's `redis-server`). */
const RedisServer = '/usr/bin/redis-server';

/**
 * The BullMQ + Redis reference build (server.ts) with a Redis of its own, running for one
 * lifecycle measurement: a fresh Redis (append-only file, fsync every second: a store that keeps
 * what it acknowledged, like the mesh's JetStream file store) and the build in one Node process.
 */
export class ReferenceBuild {
  private constructor(
    private readonly redis: ChildProcess,
    private readonly node: ChildProcess,
    private readonly dir: string,
    readonly urls: { http: string; ws: string },
  ) {}

  static async start(opts: { logDir: string; env: Record<string, string> }): Promise<ReferenceBuild> {
    const dir = mkdtempSync(join(tmpdir(), 'tabmesh-reference-'));
    const port = await freePort();
    const redis = spawn(
      RedisServer,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      { stdio: 'ignore' },
    );
    let node: ChildProcess | null = null;
    try {
      await waitForPort(port, redis);
      const log = createWriteStream(join(opts.logDir, 'reference.log'));
      node = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server.ts'), 'all'], {
        env: { ...process.env, ...opts.env, REDIS_PORT: String(port), REFERENCE_JWT_SECRET: TestJwtSecret },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      node.stdout?.pipe(log);
      node.stderr?.pipe(log);
      const { ports } = await waitForReadySignal(node, { timeoutMs: 30_000 });
      return new ReferenceBuild(redis, node, dir, {
        http: `http://127.0.0.1:${ports.http}`,
        ws: `ws://127.0.0.1:${ports.ws}/v1/ws`,
      });
    } catch (err) {
      node?.kill('SIGKILL');
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** CPU seconds used so far by Redis, the build and this process. */
  private cpu(): Record<string, number> {
    return {
      'redis-server': cpuSeconds(this.redis.pid!),
      reference: cpuSeconds(this.node.pid!),
      bench: cpuSeconds(process.pid),
    };
  }

  /** Runs `fn` and returns, with its result, the CPU seconds each process used meanwhile. */
  async measure<T>(fn: () => Promise<T>): Promise<{ value: T; cpu: Record<string, number>; bus: null }> {
    const before = this.cpu();
    const value = await fn();
    const after = this.cpu();
    const cpu: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) cpu[k] = Math.round((v - (before[k] ?? 0)) * 100) / 100;
    return { value, cpu, bus: null };
  }

  async stop(): Promise<void> {
    const exited = (p: ChildProcess) =>
      p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', r));
    this.node.kill('SIGTERM');
    await exited(this.node);
    this.redis.kill('SIGTERM');
    await exited(this.redis);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
