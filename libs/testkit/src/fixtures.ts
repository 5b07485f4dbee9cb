import { type TabRecord, TabState, TaskProvisioning, type TaskRecord } from '@tabmesh/contracts';
import { nowIso } from '@tabmesh/runtime';

/** Records as the services write them, for tests that play a service by writing KV themselves. */
const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let tabCounter = 0;

/** Process-wide prefix, so ids from one run sort by creation order (the counter), never by the clock. */
const idPrefix = encodeCrockford(Date.now(), 10);

function encodeCrockford(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = crockford[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/** ULID-shaped ids that sort in the order they were made. */
export function newTabId(): string {
  return `${idPrefix}${encodeCrockford(++tabCounter, 16)}`;
}

/** A pending tab with a fresh id; `over` sets what the test cares about. */
export function tabRecord(org: string, task: string, over: Partial<TabRecord> = {}): TabRecord {
  const now = nowIso();
  return {
    v: 1,
    id: newTabId(),
    org,
    task,
    state: TabState.PendingProvision,
    title: 'a tab',
    agent: 'mock',
    model: null,
    sessionId: null,
    sandboxId: null,
    unread: false,
    progress: 'Waiting for a sandbox',
    step: null,
    error: null,
    attempt: 1,
    clientRequestId: null,
    createdAt: now,
    updatedAt: now,
    readyAt: null,
    closedAt: null,
    ...over,
  };
}

/** A task being provisioned, generation 1. */
export function taskRecord(org: string, task: string, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    v: 1,
    org,
    task,
    state: TaskProvisioning.Provisioning,
    generation: 1,
    step: null,
    progress: 'Preparing environment',
    sandbox: null,
    error: null,
    updatedAt: nowIso(),
    provisionedAt: null,
    ...over,
  };
}
