/**
 * Open WebSocket connections per caller key. A key is held only while it has a socket, so the map
 * never outgrows the open connections.
 */
export class SocketSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a slot for `key`; false (nothing taken) when it already holds `max`. */
  acquire(key: string): boolean {
    const n = this.held.get(key) ?? 0;
    if (n >= this.max) return false;
    this.held.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.held.get(key) ?? 0;
    if (n <= 1) this.held.delete(key);
    else this.held.set(key, n - 1);
  }

  count(key: string): number {
    return this.held.get(key) ?? 0;
  }

  /** Keys holding at least one slot. */
  get keys(): number {
    return this.held.size;
  }
}
