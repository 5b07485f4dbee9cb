import { composeTabView, type Tab, TabState, type TaskProgress, type TaskStatus } from '@tabmesh/contracts';
import { FrameRing } from './frame-ring.js';

/** One change of a key in the `tabs` bucket; `value` is null when the key was deleted or purged. */
export type TabChange = { tab: string; revision: number; value: Tab | null };

export type CacheWaiter = { ready: (cache: TaskCache) => void; failed: (err: unknown) => void };

export const taskTopic = (org: string, task: string): string => `t/${org}/${task}`;

/** Tab ids are ULIDs: in id order is in creation order. */
const byId = (a: Tab, b: Tab): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * What the gateway knows about one task: its open tabs (as clients see them: composed with the
 * task's progress entry), the last revision seen per tab, its status and a ring of recent frames.
 * While loading, watch changes are buffered and applied after the KV read, keeping only those newer
 * than what was read, so nothing is lost or sent twice.
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
  /** The revision of each tab's last write (or delete). */
  private readonly revisions = new Map<string, number>();
  private buffer: TabChange[] = [];
  private bufferedStatus: TaskStatus | null = null;
  /** The task's progress entry (what its `pending_provision` tabs show), and its revision even once deleted. */
  private progress: TaskProgress | null = null;
  private progressRevision = 0;
  private bufferedProgress: { progress: TaskProgress | null; revision: number } | null = null;
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
    return [...this.open.values()].sort(byId);
  }

  /** Seeds the cache from a KV read (tabs as stored); returns the highest `tabs` revision read. */
  seed(tabs: Tab[], status: TaskStatus, progress: TaskProgress | null): number {
    this.setProgress(progress, progress?.revision ?? 0);
    for (const tab of tabs) this.apply({ tab: tab.id, revision: tab.revision, value: tab });
    this.statusValue = status;
    this.loadTarget = Math.max(0, this.progressRevision, ...tabs.map((t) => t.revision));
    return this.loadTarget;
  }

  /** Applies buffered changes and opens the ring at `floor`, the watch position the cache now matches. */
  finishLoad(floor: number): CacheWaiter[] {
    // In `tabs` order as the watch delivered them: the progress entry after the tab writes before it.
    const progress = this.bufferedProgress;
    this.bufferedProgress = null;
    for (const change of this.buffer) {
      if (progress && change.revision > progress.revision) this.applyProgress(progress.progress, progress.revision);
      this.apply(change);
    }
    if (progress) this.applyProgress(progress.progress, progress.revision);
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
    return this.apply(change);
  }

  /**
   * Records a change of the task's progress entry (null: deleted). Returns the waiting tabs it
   * changes, at its revision, to publish; while loading it is buffered and nothing is returned.
   */
  onProgressChange(progress: TaskProgress | null, revision: number): Tab[] {
    if (this.phase === 'loading') {
      if (!this.bufferedProgress || revision > this.bufferedProgress.revision) {
        this.bufferedProgress = { progress, revision };
      }
      return [];
    }
    return this.applyProgress(progress, revision);
  }

  /** Like onTabChange, for the task's status. */
  onTaskChange(status: TaskStatus): TaskStatus | null {
    if (this.phase === 'loading') {
      if (!this.bufferedStatus || status.revision > this.bufferedStatus.revision) this.bufferedStatus = status;
      return null;
    }
    return this.applyStatus(status) ? status : null;
  }

  /** The tab as clients see it after the change, or null if the change is stale or a delete. */
  private apply(change: TabChange): Tab | null {
    const known = this.revisions.get(change.tab);
    if (known !== undefined && change.revision <= known) return null;
    // Deletes keep their revision as a tombstone, so a stale put can never bring a tab back. The
    // revision kept is the write's: a composed view's is the progress entry's, which says nothing
    // about which write of the tab is newer.
    this.revisions.set(change.tab, change.revision);
    const value = change.value && composeTabView(change.value, this.progress);
    if (value && value.state !== TabState.Closed) this.open.set(change.tab, value);
    else this.open.delete(change.tab);
    return value;
  }

  private applyProgress(progress: TaskProgress | null, revision: number): Tab[] {
    if (!this.setProgress(progress, revision) || !progress) return [];
    const changed: Tab[] = [];
    for (const tab of this.open.values()) {
      const view = composeTabView(tab, progress);
      if (view === tab) continue;
      this.open.set(tab.id, view);
      changed.push(view);
    }
    return changed.sort(byId);
  }

  private setProgress(progress: TaskProgress | null, revision: number): boolean {
    if (revision <= this.progressRevision) return false;
    this.progressRevision = revision;
    this.progress = progress;
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
