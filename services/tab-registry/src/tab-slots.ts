import {
  LimitReachedError,
  type TabSlotsSchema,
  type TabSlots as TabSlotsValue,
  TabState,
  tabKey,
  taskKey,
  UnavailableError,
} from '@tabmesh/contracts';
import { RecentMap, type TabStore, type TypedBucket, type Versioned } from '@tabmesh/runtime';
import { decodeTime } from 'ulidx';
import type { TabIndex } from './tab-index.js';

/** Compare-and-set rounds before giving up: many creates on one task each win one round. */
const MaxAttempts = 200;
/** Task sets remembered for the next compare-and-set: the tasks this registry is busy with. */
const RecentSets = 10_000;

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

  /** Slot changes per task key: the one being written, and the next, still taking more. */
  private readonly batches = new Map<string, SlotBatch>();
  /** The last version of each task's set this process read or wrote, most recent last (bounded). */
  private readonly recent = new RecentMap<string, Versioned<TabSlotsValue>>(RecentSets);

  private remember(key: string, v: Versioned<TabSlotsValue> | null): void {
    if (v) this.recent.set(key, v);
    else this.recent.delete(key);
  }

  /** Takes a slot for `tab` (again: no change); refuses with LimitReachedError when the task is full. */
  reserve(org: string, task: string, tab: string): Promise<void> {
    return this.enqueue(org, task, { kind: 'reserve', tab });
  }

  /** Gives the slot of `tab` back; idempotent. */
  release(org: string, task: string, tab: string): Promise<void> {
    return this.enqueue(org, task, { kind: 'release', tab });
  }

  /**
   * Changes of one task's slots from this process are written together: while one compare-and-set
   * of the key is in flight, the next changes gather and go in the following one. Ten creates of a
   * task at once are two or three writes, not ten writers racing each other through conflicts
   * (other registries still race through compare-and-set as before).
   */
  private enqueue(org: string, task: string, change: Omit<SlotOp, 'resolve' | 'reject'>): Promise<void> {
    const key = taskKey(org, task);
    return new Promise<void>((resolve, reject) => {
      const op: SlotOp = { ...change, resolve, reject };
      const open = this.batches.get(key);
      if (open && !open.started) {
        open.ops.push(op);
        return;
      }
      const batch: SlotBatch = { ops: [op], started: false, done: Promise.resolve() };
      this.batches.set(key, batch);
      batch.done = (open?.done ?? Promise.resolve())
        .then(() => {
          batch.started = true;
          return this.write(org, task, batch.ops);
        })
        .finally(() => {
          if (this.batches.get(key) === batch) this.batches.delete(key);
        });
    });
  }

  /** One compare-and-set for a batch of changes, in their order; settles every op, never rejects. */
  private async write(org: string, task: string, ops: SlotOp[]): Promise<void> {
    const key = taskKey(org, task);
    // The set as this process last read or wrote it: the first compare-and-set starts from there
    // instead of a read. Only a write is decided on it; anything that writes nothing (a slot
    // already held or already free, a refusal at the bound) is decided on a fresh read.
    let guess = this.recent.get(key);
    try {
      for (let attempt = 0; attempt < MaxAttempts; attempt++) {
        const fromGuess = guess !== undefined;
        const cur = guess ?? (await this.bucket.get(key));
        guess = undefined;
        this.remember(key, cur);
        const reserving = ops.some((op) => op.kind === 'reserve');
        if (!cur && !reserving) return settle(ops, new Map());
        const held = cur ? cur.value.tabs : await this.seed(org, task);
        if (fromGuess && cur && held.length + ops.length > this.opts.max) continue;
        let next = [...held];
        const refused = new Map<SlotOp, Error>();
        for (const op of ops) {
          if (op.kind === 'release') {
            next = next.filter((t) => t !== op.tab);
            continue;
          }
          if (next.includes(op.tab)) continue;
          if (next.length >= this.opts.max) next = await this.freeStale(org, task, next);
          if (next.length >= this.opts.max) {
            refused.set(
              op,
              new LimitReachedError(
                `task ${org}/${task} has ${this.opts.max} open tabs, the most it may hold (TABMESH_MAX_TABS_PER_TASK); close one to make room`,
              ),
            );
            continue;
          }
          next.push(op.tab);
        }
        if (cur && next.length === held.length && next.every((t, i) => t === held[i])) {
          if (fromGuess) continue;
          return settle(ops, refused);
        }
        const value: TabSlotsValue = { v: 1, tabs: next };
        const written = cur ? await this.bucket.update(key, value, cur.revision) : await this.bucket.create(key, value);
        if (written !== null) {
          this.remember(key, { value, revision: written });
          return settle(ops, refused);
        }
        if (fromGuess) continue;
        await jitter(attempt);
      }
      const busy = new UnavailableError(`task ${org}/${task}: too many concurrent creates; retry`);
      for (const op of ops) op.reject(busy);
    } catch (err) {
      for (const op of ops) op.reject(err);
    }
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

type SlotOp = {
  kind: 'reserve' | 'release';
  tab: string;
  resolve: () => void;
  reject: (err: unknown) => void;
};
type SlotBatch = { ops: SlotOp[]; started: boolean; done: Promise<void> };

function settle(ops: SlotOp[], refused: Map<SlotOp, Error>): void {
  for (const op of ops) {
    const err = refused.get(op);
    if (err) op.reject(err);
    else op.resolve();
  }
}

function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(20, 1 + attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
