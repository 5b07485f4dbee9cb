import { ServerFrameSchema, type Tab } from '@tabmesh/contracts';

/**
 * A WebSocket client of one task, as a browser tab list would be: applies the snapshot and the tab
 * frames to its view, remembers the last revision for a resume, and notes any frame that arrives
 * out of order for its key. Needs a global WebSocket (Node 20: `--experimental-websocket`).
 */
export class TaskWatcher {
  readonly view = new Map<string, Tab>();
  /** Revisions received per tab, in arrival order. */
  readonly received = new Map<string, number[]>();
  lastRevision = 0;
  snapshots = 0;
  outOfOrder = 0;
  errors: unknown[] = [];
  private socket: WebSocket | null = null;
  private closedWaiters: Array<() => void> = [];
  open = false;

  constructor(
    readonly org: string,
    readonly task: string,
  ) {}

  /** Connects to `url` and subscribes, with `sinceRevision` once anything was seen. */
  async connect(url: string, resume: boolean): Promise<void> {
    const ws = new WebSocket(url);
    this.socket = ws;
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`websocket ${url} failed to open`)), { once: true });
    });
    this.open = true;
    ws.addEventListener('message', (ev) => this.onFrame(String(ev.data)));
    ws.addEventListener('close', () => {
      this.open = false;
      for (const w of this.closedWaiters.splice(0)) w();
    });
    const frame = {
      op: 'subscribe',
      org: this.org,
      task: this.task,
      ...(resume ? { sinceRevision: this.lastRevision } : {}),
    };
    ws.send(JSON.stringify(frame));
  }

  closed(): Promise<void> {
    return this.open ? new Promise((r) => this.closedWaiters.push(r)) : Promise.resolve();
  }

  close(): void {
    this.socket?.close();
  }

  private onFrame(text: string): void {
    const parsed = ServerFrameSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      this.errors.push(text);
      return;
    }
    const frame = parsed.data;
    if (frame.type === 'snapshot') {
      this.snapshots++;
      this.view.clear();
      for (const t of frame.tabs) this.view.set(t.id, t);
      this.lastRevision = Math.max(this.lastRevision, frame.revision);
    } else if (frame.type === 'tab') {
      const t = frame.tab;
      const seen = this.received.get(t.id) ?? [];
      if (seen.length && seen[seen.length - 1]! >= t.revision) this.outOfOrder++;
      seen.push(t.revision);
      this.received.set(t.id, seen);
      const cur = this.view.get(t.id);
      if (!cur || cur.revision < t.revision) this.view.set(t.id, t);
      this.lastRevision = Math.max(this.lastRevision, t.revision);
    } else if (frame.type === 'error') {
      this.errors.push(frame);
    }
  }
}
