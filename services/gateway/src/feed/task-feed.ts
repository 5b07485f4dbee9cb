import type { KvWatchEntry } from '@nats-io/kv';
import {
  parseTabKey,
  parseTaskKey,
  type ServerFrame,
  ServerFrameType,
  type Tab,
  taskKey,
  textOfValidated,
} from '@tabmesh/contracts';
import { type Logger, TabStore, type TaskStore } from '@tabmesh/runtime';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { BucketWatch } from './bucket-watch.js';
import { tabChangeOf, taskProgressOf, taskStatusOf } from './kv-entries.js';
import { type CacheWaiter, type TabChange, TaskCache } from './task-cache.js';

/** Where frames for a task's subscribers go: the WebSocket server's topic publish. */
export type FrameSink = { publish: (topic: string, text: string, type: string) => void };

export type TaskFeedOptions = {
  tabs: TabStore;
  tasks: TaskStore;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Recent tab frames kept per task for resumes. */
  ringSize: number;
  /** How long a task stays cached after its last holder leaves. */
  evictAfterMs: number;
};

/**
 * One watch on `tabs` and one on `tasks` for the whole gateway, feeding per-task caches that are
 * loaded on demand. Every change of a cached task is encoded once and published to its topic. The
 * `tabs` watch also carries each task's progress entry (`{org}.{task}`), shown on its waiting tabs.
 */
export class TaskFeed {
  /** The last `tabs` bucket revision processed: the revision snapshots report. */
  lastRevision = 0;
  private lastTaskRevision = 0;
  private readonly caches = new Map<string, TaskCache>();
  private readonly catchingUp = new Set<TaskCache>();
  private sink: FrameSink = { publish: () => undefined };
  private tabWatch: BucketWatch | null = null;
  private taskWatch: BucketWatch | null = null;

  constructor(private readonly opts: TaskFeedOptions) {}

  /**
   * Starts both watches just past the buckets' current last sequence: a change made after the read
   * has a higher sequence and is delivered, so none falls between the read and the watch.
   */
  async start(): Promise<void> {
    const { tabs, tasks, logger } = this.opts;
    const [tabsStatus, tasksStatus] = await Promise.all([tabs.kv.status(), tasks.kv.status()]);
    this.lastRevision = tabsStatus.streamInfo.state.last_seq;
    this.lastTaskRevision = tasksStatus.streamInfo.state.last_seq;
    this.tabWatch = new BucketWatch({
      kv: tabs.kv,
      name: 'tabs',
      nextRevision: () => this.lastRevision + 1,
      onEntry: (e) => this.onTabEntry(e),
      logger,
    });
    this.taskWatch = new BucketWatch({
      kv: tasks.kv,
      name: 'tasks',
      nextRevision: () => this.lastTaskRevision + 1,
      onEntry: (e) => this.onTaskEntry(e),
      logger,
    });
    await Promise.all([this.tabWatch.start(), this.taskWatch.start()]);
    logger.info({ tabsRevision: this.lastRevision, tasksRevision: this.lastTaskRevision }, 'kv watches started');
  }

  async stop(): Promise<void> {
    await Promise.all([this.tabWatch?.stop(), this.taskWatch?.stop()]);
    for (const cache of this.caches.values()) if (cache.evictTimer) clearTimeout(cache.evictTimer);
    this.caches.clear();
    this.opts.metrics.taskCaches.set(0);
  }

  watchesRunning(): { tabs: boolean; tasks: boolean } {
    return { tabs: this.tabWatch?.running ?? false, tasks: this.taskWatch?.running ?? false };
  }

  setSink(sink: FrameSink): void {
    this.sink = sink;
  }

  /** Holds a task's cache, loading it if needed. Pair with `release`. */
  retain(org: string, task: string): TaskCache {
    const key = taskKey(org, task);
    let cache = this.caches.get(key);
    if (!cache) {
      cache = new TaskCache(org, task, this.opts.ringSize);
      this.caches.set(key, cache);
      this.opts.metrics.taskCaches.set(this.caches.size);
      void this.load(cache);
    }
    cache.holders++;
    if (cache.evictTimer) {
      clearTimeout(cache.evictTimer);
      cache.evictTimer = null;
    }
    return cache;
  }

  release(cache: TaskCache): void {
    cache.holders--;
    if (cache.holders > 0 || cache.evictTimer) return;
    cache.evictTimer = setTimeout(() => {
      cache.evictTimer = null;
      if (cache.holders > 0) return;
      this.evict(cache);
    }, this.opts.evictAfterMs);
    cache.evictTimer.unref();
  }

  /**
   * Calls `ready` once the cache is loaded: synchronously if it already is, so the caller can send
   * a snapshot and subscribe in the same tick as the last frame it reflects.
   */
  whenReady(cache: TaskCache, waiter: CacheWaiter): void {
    if (cache.phase === 'ready') waiter.ready(cache);
    else if (cache.phase === 'failed') waiter.failed(new Error('task cache failed to load'));
    else cache.addWaiter(waiter);
  }

  /** Number of cached tasks (for tests and metrics). */
  get cachedTasks(): number {
    return this.caches.size;
  }

  private evict(cache: TaskCache): void {
    const key = taskKey(cache.org, cache.task);
    if (this.caches.get(key) === cache) this.caches.delete(key);
    this.catchingUp.delete(cache);
    this.opts.metrics.taskCaches.set(this.caches.size);
  }

  private async load(cache: TaskCache): Promise<void> {
    const { tabs, tasks, logger } = this.opts;
    try {
      const [entries, status, progress] = await Promise.all([
        tabs.listTask(cache.org, cache.task),
        tasks.status(cache.org, cache.task),
        tabs.progressOf(cache.org, cache.task),
      ]);
      if (this.caches.get(taskKey(cache.org, cache.task)) !== cache) return;
      const target = cache.seed(entries.map(TabStore.view), status, progress);
      // The read may be ahead of the watch; finish once the watch has passed every revision read,
      // so the cache then matches `lastRevision` exactly and the ring is complete from there.
      if (this.lastRevision >= target) this.finish(cache);
      else this.catchingUp.add(cache);
    } catch (err) {
      logger.error({ err, org: cache.org, task: cache.task }, 'task cache load failed');
      this.evict(cache);
      for (const w of cache.fail()) this.runWaiter(() => w.failed(err));
    }
  }

  private finish(cache: TaskCache): void {
    this.catchingUp.delete(cache);
    this.opts.metrics.taskLoadSeconds.observe((performance.now() - cache.createdAt) / 1000);
    for (const w of cache.finishLoad(this.lastRevision)) this.runWaiter(() => w.ready(cache));
  }

  private runWaiter(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ err }, 'task cache waiter failed');
    }
  }

  private onTabEntry(e: KvWatchEntry): void {
    if (e.revision <= this.lastRevision) return; // already seen before a watch restart
    this.lastRevision = e.revision;
    const { metrics, logger } = this.opts;
    metrics.kvEntries.inc({ bucket: 'tabs' });
    try {
      const key = parseTabKey(e.key);
      const cache = key && this.caches.get(taskKey(key.org, key.task));
      if (key && cache) this.dispatchTab(cache, tabChangeOf(e, key.tab));
      const progressKey = key ? null : parseTaskKey(e.key);
      const waiting = progressKey && this.caches.get(taskKey(progressKey.org, progressKey.task));
      if (progressKey && waiting) this.dispatchProgress(waiting, e, progressKey);
    } catch (err) {
      metrics.kvInvalidEntries.inc({ bucket: 'tabs' });
      logger.warn({ err, key: e.key, revision: e.revision }, 'skipped invalid tabs entry');
    }
    for (const cache of this.catchingUp) if (this.lastRevision >= cache.loadTarget) this.finish(cache);
  }

  private dispatchTab(cache: TaskCache, change: TabChange): void {
    const tab = cache.onTabChange(change);
    if (tab) this.publishTab(cache, tab);
  }

  /** A task's progress entry changed: each of its tabs that shows it gets a frame at its revision. */
  private dispatchProgress(cache: TaskCache, e: KvWatchEntry, key: { org: string; task: string }): void {
    for (const tab of cache.onProgressChange(taskProgressOf(e, key.org, key.task), e.revision)) {
      this.publishTab(cache, tab);
    }
  }

  private publishTab(cache: TaskCache, tab: Tab): void {
    // The tab was validated when its entry was decoded (tabChangeOf): the frame is not parsed again.
    const text = textOfValidated<ServerFrame>({ v: 1, type: ServerFrameType.Tab, tab });
    cache.ring.push(tab.revision, text);
    this.sink.publish(cache.topic, text, ServerFrameType.Tab);
  }

  private onTaskEntry(e: KvWatchEntry): void {
    if (e.revision <= this.lastTaskRevision) return;
    this.lastTaskRevision = e.revision;
    const { metrics, logger } = this.opts;
    metrics.kvEntries.inc({ bucket: 'tasks' });
    try {
      const key = parseTaskKey(e.key);
      const cache = key && this.caches.get(taskKey(key.org, key.task));
      if (!key || !cache) return;
      const status = taskStatusOf(e, key.org, key.task);
      if (!cache.onTaskChange(status)) return;
      const text = textOfValidated<ServerFrame>({ v: 1, type: ServerFrameType.Task, task: status });
      this.sink.publish(cache.topic, text, ServerFrameType.Task);
    } catch (err) {
      metrics.kvInvalidEntries.inc({ bucket: 'tasks' });
      logger.warn({ err, key: e.key, revision: e.revision }, 'skipped invalid tasks entry');
    }
  }
}
