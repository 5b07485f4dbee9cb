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
