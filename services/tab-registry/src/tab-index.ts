import { type KV, KvWatchInclude } from '@nats-io/kv';
import { isPendingState, parseTabKey, type TabRecord, TabRecordSchema, TabState, taskKey } from '@tabmesh/contracts';
import type { Logger } from '@tabmesh/runtime';

export type ClosedTab = {
  closedAt: number;
  clientRequestId: string | null;
  sessionId: string | null;
  org: string;
  task: string;
  tab: string;
};

/**
 * The registry's view of the tabs that still need attention, kept from one KV watch: pending tabs
 * (for the sweep and the queue observer), closed ones and purge markers (for the retention reaper)
 * and which tasks have open tabs (for the idle reaper). Of open ready and error tabs only the key is
 * held, so memory follows the pending and recently closed tabs.
 */
export class TabIndex {
  readonly pending = new Map<string, TabRecord>();
  readonly closed = new Map<string, ClosedTab>();
  /** Open (not closed) tab keys per task key, and the latest close per task: for the idle reaper. */
  readonly openByTask = new Map<string, Set<string>>();
  readonly lastClosedAt = new Map<string, number>();
  /**
   * Keys whose last entry is a delete or purge marker, with the marker's time: a purge leaves one
   * (so watchers learn of it), and the closed-reaper erases it once watchers have had time to see it.
   */
  readonly markers = new Map<string, number>();
  private stopWatch: (() => void) | null = null;

  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const watch = await this.kv.watch({ key: '>', include: KvWatchInclude.LastValue });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        this.pending.delete(e.key);
        this.closed.delete(e.key);
        const parts = parseTabKey(e.key);
        const tk = parts ? taskKey(parts.org, parts.task) : null;
        if (tk) this.forgetOpen(tk, e.key);
        this.markers.delete(e.key);
        if (e.operation !== 'PUT') {
          this.markers.set(e.key, e.created.getTime());
          continue;
        }
        const parsed = TabRecordSchema.safeParse(safeJson(e.value));
        if (!parsed.success) {
          this.logger.warn({ key: e.key }, 'tab value does not match its schema; ignored');
          continue;
        }
        const tab = parsed.data;
        if (tk && tab.state !== TabState.Closed)
          this.openByTask.set(tk, (this.openByTask.get(tk) ?? new Set()).add(e.key));
        if (tk && tab.state === TabState.Closed) {
          this.lastClosedAt.set(
            tk,
            Math.max(this.lastClosedAt.get(tk) ?? 0, Date.parse(tab.closedAt ?? tab.updatedAt)),
          );
        }
        if (isPendingState(tab.state)) this.pending.set(e.key, tab);
        else if (tab.state === TabState.Closed) {
          this.closed.set(e.key, {
            closedAt: Date.parse(tab.closedAt ?? tab.updatedAt),
            clientRequestId: tab.clientRequestId,
            sessionId: tab.sessionId,
            org: tab.org,
            task: tab.task,
            tab: tab.id,
          });
        }
      }
    })();
  }

  /** Open tabs of a task, as far as the watch has seen. */
  openTabs(org: string, task: string): number {
    return this.openByTask.get(taskKey(org, task))?.size ?? 0;
  }

  private forgetOpen(tk: string, key: string): void {
    const open = this.openByTask.get(tk);
    if (!open?.delete(key) || open.size > 0) return;
    this.openByTask.delete(tk);
  }

  stop(): void {
    this.stopWatch?.();
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return null;
  }
}
