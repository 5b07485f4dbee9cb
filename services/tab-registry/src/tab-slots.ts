import {
  LimitReachedError,
  type TabSlotsSchema,
  type TabSlots as TabSlotsValue,
  TabState,
  tabKey,
  taskKey,
  UnavailableError,
} from '@tabmesh/contracts';
import type { TabStore, TypedBucket } from '@tabmesh/runtime';
import { decodeTime } from 'ulidx';
import type { TabIndex } from './tab-index.js';

/** Compare-and-set rounds before giving up: many creates on one task each win one round. */
const MaxAttempts = 200;

/**
 * The tabs-per-task bound, held by any number of registries: KV bucket `tab-slots` keeps, per task,
 * the ids of its open tabs, changed only with compare-and-set. A create takes a slot before it
 * writes its tab, a close gives it back after; a create that died in between leaves a slot with no
 * tab, and a close that died a closed tab's slot: both are freed when the set is found full
 * (`freeStale`), and the closed-reaper frees a purged tab's slot in any case.
 */
export class TabSlots {
  constructor(
    private readonly bucket: TypedBucket<typeof TabSlotsSchema>,
    private readonly tabs: TabStore,
    private readonly index: TabIndex,
    private readonly opts: {
      max: number;
      /** A slot younger than this whose tab is not written yet belongs to a create in flight. */
      graceMs: number;
    },
  ) {}

  /** Takes a slot for `tab` (again: no change); refuses with LimitReachedError when the task is full. */
  async reserve(org: string, task: string, tab: string): Promise<void> {
    const key = taskKey(org, task);
    for (let attempt = 0; attempt < MaxAttempts; attempt++) {
      const cur = await this.bucket.get(key);
      let held = cur ? cur.value.tabs : await this.seed(org, task);
      if (held.includes(tab)) {
        if (cur) return;
      } else {
        if (held.length >= this.opts.max) held = await this.freeStale(org, task, held);
        if (held.length >= this.opts.max) {
          throw new LimitReachedError(
            `task ${org}/${task} has ${this.opts.max} open tabs, the most it may hold (TABMESH_MAX_TABS_PER_TASK); close one to make room`,
          );
        }
        held = [...held, tab];
      }
      const next: TabSlotsValue = { v: 1, tabs: held };
      const written = cur ? await this.bucket.update(key, next, cur.revision) : await this.bucket.create(key, next);
      if (written !== null) return;
      await jitter(attempt);
    }
    throw new UnavailableError(`task ${org}/${task}: too many concurrent creates; retry`);
  }

  /** Gives the slot of `tab` back; idempotent. */
  async release(org: string, task: string, tab: string): Promise<void> {
    await this.bucket.mutate(
      taskKey(org, task),
      (cur) => (cur?.value.tabs.includes(tab) ? { v: 1, tabs: cur.value.tabs.filter((t) => t !== tab) } : null),
      undefined,
      MaxAttempts,
    );
  }

  /**
   * The slots of a task never counted before (the first create, or tabs from before the bound
   * existed): its tabs that are not closed. For a new task this is one empty listing.
   */
  private async seed(org: string, task: string): Promise<string[]> {
    const tabs = await this.tabs.listTask(org, task);
    return tabs.filter((t) => t.value.state !== TabState.Closed).map((t) => t.value.id);
  }

  /**
   * Drops slots that hold no open tab: the tab is closed or purged (the index saw it), or it was
   * never written and its create is long over. One listing of the task's keys; run only at the bound.
   */
  private async freeStale(org: string, task: string, held: string[]): Promise<string[]> {
    const listed = new Set(await this.tabs.keys(`${org}.${task}.*`));
    const cutoff = Date.now() - this.opts.graceMs;
    return held.filter((id) => {
      const key = tabKey(org, task, id);
      if (this.index.closed.has(key) || this.index.markers.has(key)) return false;
      return listed.has(key) || decodeTime(id) > cutoff;
    });
  }
}

function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(20, 1 + attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
