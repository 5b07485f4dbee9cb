import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
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
 * Starts nats-server with JetStream on loopback and resolves once it accepts connections. The
 * caller owns the process (stop it with SIGTERM; SIGKILL to simulate a crash).
 */
export async function launchNatsServer(opts: LaunchOptions): Promise<ChildProcess> {
  const args = ['-js', '-a', '127.0.0.1', '-p', String(opts.port), '-sd', opts.storeDir, ...(opts.args ?? [])];
  const output = opts.output ?? 'ignore';
  const stdio: StdioOptions = ['ignore', output, output];
  const proc = spawn(natsServerBinary(), args, { stdio, detached: opts.detached ?? false });
  try {
    await waitForPort(opts.port, proc, opts.timeoutMs);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return proc;
}
