import type { KvWatchEntry } from '@nats-io/kv';
import {
  decode,
  newTask,
  TabRecordSchema,
  type TaskProgress,
  TaskProgressRecordSchema,
  TaskRecordSchema,
  type TaskStatus,
  tabKey,
  taskKey,
  taskProgressKey,
} from '@tabmesh/contracts';
import { TabStore, TaskStore } from '@tabmesh/runtime';
import type { TabChange } from './task-cache.js';

/** Decodes a `tabs` watch entry; throws on a value its contract (or its key) rejects. */
export function tabChangeOf(e: KvWatchEntry, tab: string): TabChange {
  if (e.operation !== 'PUT') return { tab, revision: e.revision, value: null };
  const record = decode(TabRecordSchema, e.value, `tabs entry ${e.key}`);
  const recordKey = tabKey(record.org, record.task, record.id);
  if (recordKey !== e.key) throw new Error(`tabs entry ${e.key} holds ${recordKey}`);
  return { tab, revision: e.revision, value: TabStore.view({ value: record, revision: e.revision }) };
}

/** Decodes a `tasks` watch entry; a deleted task reads as unprovisioned again. */
export function taskStatusOf(e: KvWatchEntry, org: string, task: string): TaskStatus {
  if (e.operation !== 'PUT') return TaskStore.view(newTask(org, task), e.revision);
  const record = decode(TaskRecordSchema, e.value, `tasks entry ${e.key}`);
  const recordKey = taskKey(record.org, record.task);
  if (recordKey !== e.key) throw new Error(`tasks entry ${e.key} holds ${recordKey}`);
  return TaskStore.view(record, e.revision);
}

/** Decodes a task's progress entry from the `tabs` watch; null when it was deleted or purged. */
export function taskProgressOf(e: KvWatchEntry, org: string, task: string): TaskProgress | null {
  if (e.operation !== 'PUT') return null;
  const record = decode(TaskProgressRecordSchema, e.value, `task progress entry ${e.key}`);
  const recordKey = taskProgressKey(record.org, record.task);
  if (recordKey !== taskProgressKey(org, task)) throw new Error(`task progress entry ${e.key} holds ${recordKey}`);
  return { value: record, revision: e.revision };
}
