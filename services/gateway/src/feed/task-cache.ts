import { type Tab, TabState, type TaskStatus } from '@tabmesh/contracts';
import { FrameRing } from './frame-ring.js';

/** One change of a key in the `tabs` bucket; `value` is null when the key was deleted or purged. */
export type TabChange = { tab: string; revision: number; value: Tab | null };

export type CacheWaiter = { ready: (cache: TaskCache) => void; failed: (err: unknown) => void };

export const taskTopic = (org: string, task: string): string => `t/${org}/${task}`;

/**
 * What the gateway knows about one task: its open tabs, the last revision seen per tab, its status
 * and a ring of recent frames. While loading, watch changes are buffered and applied after the
 * KV read, keeping only those newer than what was read, so nothing is lost or sent twice.
 */
export class TaskCache {
  readonly topic: string;
  readonly createdAt = performance.now();
  phase: 'loading' | 'ready' | 'failed' = 'loading';
  /** Sockets (and reads) holding this cache; evicted some time after it drops to zero. */
  holders = 0;
  evictTimer: NodeJS.Timeout | null = null;
  /** The highest tab revision the KV read saw; the load completes once the watch has passed it. */
  loadTarget = 0;
  private readonly open = new Map<string, Tab>();
  private readonly revisions = new Map<string, number>();
  private buffer: TabChange[] = [];
  private bufferedStatus: TaskStatus | null = null;
  private waiters: CacheWaiter[] = [];
  private statusValue: TaskStatus | null = null;
  private frames: FrameRing | null = null;

  constructor(
    readonly org: string,
    readonly task: string,
    private readonly ringSize: number,
  ) {
    this.topic = taskTopic(org, task);
  }

  get status(): TaskStatus {
    if (!this.statusValue) throw new Error(`task ${this.org}/${this.task} is not loaded`);
    return this.statusValue;
  }

  get ring(): FrameRing {
    if (!this.frames) throw new Error(`task ${this.org}/${this.task} is not loaded`);
    return this.frames;
  }

  /** Open tabs in id (creation) order. */
  openTabs(): Tab[] {
    return [...this.open.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Seeds the cache from a KV read; returns the highest tab revision read. */
  seed(tabs: Tab[], status: TaskStatus): number {
    for (const tab of tabs) this.apply({ tab: tab.id, revision: tab.revision, value: tab });
    this.statusValue = status;
    this.loadTarget = Math.max(0, ...tabs.map((t) => t.revision));
    return this.loadTarget;
  }

  /** Applies buffered changes and opens the ring at `floor`, the watch position the cache now matches. */
  finishLoad(floor: number): CacheWaiter[] {
    for (const change of this.buffer) this.apply(change);
    this.buffer = [];
    if (this.bufferedStatus) this.applyStatus(this.bufferedStatus);
    this.bufferedStatus = null;
    this.frames = new FrameRing(this.ringSize, floor);
    this.phase = 'ready';
    return this.takeWaiters();
  }

  fail(): CacheWaiter[] {
    this.phase = 'failed';
    return this.takeWaiters();
  }

  addWaiter(waiter: CacheWaiter): void {
    this.waiters.push(waiter);
  }

  /**
   * Records a watch change. While loading it is buffered (and null is returned); once ready it
   * returns the tab to publish, or null if it is not newer than what the cache holds or was a delete.
   */
  onTabChange(change: TabChange): Tab | null {
    if (this.phase === 'loading') {
      this.buffer.push(change);
      return null;
    }
    return this.apply(change) ? change.value : null;
  }

  /** Like onTabChange, for the task's status. */
  onTaskChange(status: TaskStatus): TaskStatus | null {
    if (this.phase === 'loading') {
      if (!this.bufferedStatus || status.revision > this.bufferedStatus.revision) this.bufferedStatus = status;
      return null;
    }
    return this.applyStatus(status) ? status : null;
  }

  private apply(change: TabChange): boolean {
    const known = this.revisions.get(change.tab);
    if (known !== undefined && change.revision <= known) return false;
    // Deletes keep their revision as a tombstone, so a stale put can never bring a tab back.
    this.revisions.set(change.tab, change.revision);
    if (change.value && change.value.state !== TabState.Closed) this.open.set(change.tab, change.value);
    else this.open.delete(change.tab);
    return true;
  }

  private applyStatus(status: TaskStatus): boolean {
    if (this.statusValue && status.revision <= this.statusValue.revision) return false;
    this.statusValue = status;
    return true;
  }

  private takeWaiters(): CacheWaiter[] {
    const w = this.waiters;
    this.waiters = [];
    return w;
  }
}
