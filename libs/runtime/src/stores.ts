import type { KV } from '@nats-io/kv';
import {
  newTask,
  sandboxView,
  type Tab,
  type TabRecord,
  TabRecordSchema,
  type TaskRecord,
  TaskRecordSchema,
  type TaskStatus,
  tabKey,
  taskKey,
  taskTabsFilter,
} from '@tabmesh/contracts';
import { TypedBucket, type Versioned } from './typed-kv.js';

export const nowIso = (): string => new Date().toISOString();

/** The `tabs` bucket, with the views clients see. */
export class TabStore extends TypedBucket<typeof TabRecordSchema> {
  constructor(kv: KV) {
    super(kv, TabRecordSchema, 'tab');
  }

  static view(v: Versioned<TabRecord>): Tab {
    return { ...v.value, revision: v.revision };
  }

  getTab(org: string, task: string, tab: string): Promise<Versioned<TabRecord> | null> {
    return this.get(tabKey(org, task, tab));
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
    const keys = (await this.keys(taskTabsFilter(org, task))).sort();
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
