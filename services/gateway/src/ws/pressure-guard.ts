import type { Socket } from './socket-data.js';

/**
 * Drops sockets whose send buffer passed the limit. uWS's own `closeOnBackpressureLimit` closes
 * such a socket a loop turn later with the same code as any abrupt disconnect, so it cannot tell
 * us which closes were drops; this guard checks the subscribers of each topic published in a tick
 * (once per tick, reading a native counter per socket) and closes the slow ones itself.
 */
export class PressureGuard {
  private readonly members = new Map<string, Set<Socket>>();
  private readonly dirty = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly limit: number,
    private readonly onDrop: (ws: Socket, buffered: number) => void,
  ) {}

  join(topic: string, ws: Socket): void {
    let set = this.members.get(topic);
    if (!set) {
      set = new Set();
      this.members.set(topic, set);
    }
    set.add(ws);
  }

  leave(topic: string, ws: Socket): void {
    const set = this.members.get(topic);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.members.delete(topic);
  }

  /** A frame went to `topic`: check its subscribers once the current burst of work is done. */
  published(topic: string): void {
    this.dirty.add(topic);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.check());
  }

  /** Checks one socket now (after direct sends such as a snapshot). */
  inspect(ws: Socket): void {
    const data = ws.getUserData();
    if (!data.open || data.dropped) return;
    const buffered = ws.getBufferedAmount();
    if (buffered <= this.limit) return;
    data.dropped = true;
    this.onDrop(ws, buffered);
    ws.close();
  }

  private check(): void {
    this.scheduled = false;
    for (const topic of this.dirty) {
      for (const ws of [...(this.members.get(topic) ?? [])]) this.inspect(ws);
    }
    this.dirty.clear();
  }
}
