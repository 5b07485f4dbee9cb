import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { NatsLaunchError } from './launch-error.js';

export { freePort } from '@tabmesh/runtime';

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** Resolves once `proc` accepts connections on `port`; fails if it exits first or takes too long. */
export async function waitForPort(port: number, proc: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new NatsLaunchError(`nats-server exited (${proc.signalCode ?? proc.exitCode}) before listening on ${port}`);
    }
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new NatsLaunchError(`nats-server did not listen on ${port} within ${timeoutMs} ms`);
}
