import type { KV } from '@nats-io/kv';
import {
  composeTabView,
  newTask,
  sandboxView,
  type Tab,
  type TabRecord,
  TabRecordSchema,
  TabSlotsSchema,
  TabState,
  type TaskProgress,
  TaskProgressRecordSchema,
  type TaskRecord,
  TaskRecordSchema,
  type TaskStatus,
  tabKey,
  taskKey,
  taskProgressKey,
  taskTabsFilter,
} from '@tabmesh/contracts';
import { TypedBucket, type Versioned } from './typed-kv.js';

export const nowIso = (): string => new Date().toISOString();

/** The `tabs` bucket, with the views clients see. */
export class TabStore extends TypedBucket<typeof TabRecordSchema> {
  private readonly slots: TypedBucket<typeof TabSlotsSchema> | null;
  /** The tasks' progress entries, kept in this bucket beside their tabs (see TaskProgressRecordSchema). */
  readonly progress: TypedBucket<typeof TaskProgressRecordSchema>;

  /** `slotsKv`: the `tab-slots` bucket, where `listOpen` finds a task's open tabs. */
  constructor(kv: KV, slotsKv?: KV) {
    super(kv, TabRecordSchema, 'tab');
    this.slots = slotsKv ? new TypedBucket(slotsKv, TabSlotsSchema, 'tab slots') : null;
    this.progress = new TypedBucket(kv, TaskProgressRecordSchema, 'task progress');
  }

  /** The record as stored, with its revision; what clients see also takes the task's progress (`views`). */
  static view(v: Versioned<TabRecord>): Tab {
    return { ...v.value, revision: v.revision };
  }

  getTab(org: string, task: string, tab: string): Promise<Versioned<TabRecord> | null> {
    return this.get(tabKey(org, task, tab));
  }

  progressOf(org: string, task: string): Promise<TaskProgress | null> {
    return this.progress.get(taskProgressKey(org, task));
  }

  /** Tabs of one task as clients see them: each record composed with the task's progress entry. */
  async views(org: string, task: string, records: Versioned<TabRecord>[]): Promise<Tab[]> {
    const waiting = records.some((r) => r.value.state === TabState.PendingProvision);
    const progress = waiting ? await this.progressOf(org, task) : null;
    return records.map((r) => composeTabView(TabStore.view(r), progress));
  }

  /**
   * Every tab of a task, closed ones included, in id (creation) order. `known` versions (by key)
   * are taken as they are instead of read: for callers that only write with compare-and-set.
   */
  async listTask(
    org: string,
    task: string,
    known?: Map<string, Versioned<TabRecord>>,
  ): Promise<Versioned<TabRecord>[]> {
    return this.read((await this.keys(taskTabsFilter(org, task))).sort(), known);
  }

  /**
   * The tabs of a task that hold a slot (every open tab: a create takes its slot before it writes
   * the tab, a close gives it back after), in id order; a slot whose tab is gone or closed may still
   * list it. One read of the slot set instead of a listing: a stream-info with a subject filter costs
   * nats-server time in proportion to the whole bucket (about 5 ms at 20,000 keys), a read does not.
   * Without the slots bucket, the full listing.
   */
  async listOpen(
    org: string,
    task: string,
    known?: Map<string, Versioned<TabRecord>>,
  ): Promise<Versioned<TabRecord>[]> {
    if (!this.slots) return this.listTask(org, task, known);
    const held = await this.slots.get(taskKey(org, task));
    return this.read((held?.value.tabs ?? []).map((id) => tabKey(org, task, id)).sort(), known);
  }

  private async read(keys: string[], known?: Map<string, Versioned<TabRecord>>): Promise<Versioned<TabRecord>[]> {
    const entries = await Promise.all(keys.map((k) => known?.get(k) ?? this.get(k)));
    return entries.filter((e): e is Versioned<TabRecord> => e !== null);
  }
}

/** The `tasks` bucket; a task never seen reads as `newTask` (unprovisioned). */
export class TaskStore extends TypedBucket<typeof TaskRecordSchema> {
  constructor(kv: KV) {
    super(kv, TaskRecordSchema, 'task');
  }

  static view(record: TaskRecord, revision: number): TaskStatus {
    // Only what names the sandbox, also for a record written before credentials moved out of `tasks`.
    return { ...record, sandbox: record.sandbox ? sandboxView(record.sandbox) : null, revision };
  }

  getTask(org: string, task: string): Promise<Versioned<TaskRecord> | null> {
    return this.get(taskKey(org, task));
  }

  async status(org: string, task: string): Promise<TaskStatus> {
    const t = await this.getTask(org, task);
    return t ? TaskStore.view(t.value, t.revision) : TaskStore.view(newTask(org, task), 0);
  }
}
