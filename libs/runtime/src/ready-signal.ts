import type { ChildProcess } from 'node:child_process';

/**
 * The explicit "I serve now" signal of a service process: when it was started with an IPC channel
 * (a test harness, the `pnpm start` launcher), it sends this message once everything is up, so
 * nobody has to match log text to know it is ready.
 */
export type ReadySignal = { type: 'tabmesh.ready'; service: string; ports: Record<string, number> };

/**
 * The name a mesh host (scripts/mesh-host.ts: several services in one process) signals ready under,
 * once every service it runs is; each of those sends its own signal as well.
 */
export const MeshHostName = 'mesh-host';

export const isReadySignal = (msg: unknown): msg is ReadySignal =>
  typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'tabmesh.ready';

export function announceReady(service: string, ports: Record<string, number> = {}): void {
  const signal: ReadySignal = { type: 'tabmesh.ready', service, ports };
  process.send?.(signal);
}

/**
 * Resolves with the first ready signal `child` sends, or the first from `service` when given (a mesh
 * host's services each send their own before the host sends its one). Rejects if the child exits
 * first, or after `timeoutMs` when given; the reason reads after the child's name ("exited (1)
 * before it was ready").
 */
export function waitForReadySignal(
  child: ChildProcess,
  opts: { service?: string; timeoutMs?: number } = {},
): Promise<ReadySignal> {
  return new Promise((resolve, reject) => {
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      fn();
    };
    const onMessage = (msg: unknown) => {
      if (isReadySignal(msg) && (opts.service === undefined || msg.service === opts.service))
        settle(() => resolve(msg));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      settle(() => reject(new Error(`exited (${signal ?? code}) before it was ready`)));
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => settle(() => reject(new Error(`not ready within ${opts.timeoutMs} ms`))), opts.timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
