import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { natsServerBinary } from './binary.js';
import { waitForPort } from './ports.js';

export { NatsLaunchError } from './launch-error.js';

export type LaunchOptions = {
  port: number;
  /** JetStream store directory. */
  storeDir: string;
  /** Extra command-line arguments (cluster routes, a server name, …). */
  args?: string[];
  /** Where the server's output goes: `ignore` (default), `inherit`, or `pipe` to read it. */
  output?: 'ignore' | 'inherit' | 'pipe';
  /** Own process group, so a Ctrl-C meant for the launcher does not reach the server first. */
  detached?: boolean;
  timeoutMs?: number;
};

/**
 * How many OS threads the server's Go runtime runs at once: GOMAXPROCS when the caller's environment
 * sets it, else half the machine's cores (at least one). A launched server shares its machine with
 * the mesh's Node processes, and with a thread per core its scheduler spins looking for work
 * between messages that mostly arrive one at a time: on 2 cores at 200 tabs/s that was 2.8 ms of
 * nats-server CPU per tab against 2.45 ms with one thread (docs/bench/README.md, sixth round).
 */
export function serverThreads(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): string {
  const set = env.GOMAXPROCS?.trim();
  if (set && /^[1-9][0-9]*$/.test(set)) return set;
  return String(Math.max(1, Math.floor(cores / 2)));
}

/**
 * Starts nats-server with JetStream on loopback and resolves once it accepts connections. The
 * caller owns the process (stop it with SIGTERM; SIGKILL to simulate a crash).
 */
export async function launchNatsServer(opts: LaunchOptions): Promise<ChildProcess> {
  const args = ['-js', '-a', '127.0.0.1', '-p', String(opts.port), '-sd', opts.storeDir, ...(opts.args ?? [])];
  const output = opts.output ?? 'ignore';
  const stdio: StdioOptions = ['ignore', output, output];
  const proc = spawn(natsServerBinary(), args, {
    stdio,
    detached: opts.detached ?? false,
    env: { ...process.env, GOMAXPROCS: serverThreads() },
  });
  try {
    await waitForPort(opts.port, proc, opts.timeoutMs);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return proc;
}
