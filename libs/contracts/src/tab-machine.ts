import { type ErrorInfo, storedError } from './errors.js';
import { progressText, SandboxLostDetail, Step } from './progress.js';
import { type TabRecord, TabState } from './tab.js';
import { TaskProvisioning, type TaskRecord } from './task.js';

/**
 * The tab state machine of DESIGN.md, and the only module that writes a tab's `state`. Each named
 * transition checks `canTransition` and returns the new record, or null when it is refused: the
 * record stays as it is, which inside `TypedBucket.mutate` is exactly what null means. A caller
 * that must report a refusal (retry answers 409) throws `InvalidTransitionError` itself.
 * Pure: no I/O, the clock is a parameter.
 *
 * Whether a job is still current (its tab attempt) is the caller's check, not the machine's.
 */
const allowed: Record<TabState, readonly TabState[]> = {
  // `pending_session_create → pending_provision` is the lost-sandbox path: the tab waits for a new one.
  pending_provision: ['pending_session_create', 'error', 'closed'],
  pending_session_create: ['ready', 'pending_provision', 'error', 'closed'],
  // `ready → pending_provision` is a sandbox that died or was reaped under the tab (toSandboxLost).
  ready: ['pending_provision', 'closed'],
  // Left only through retry.
  error: ['pending_provision', 'pending_session_create', 'closed'],
  closed: [],
};

export function canTransition(from: TabState, to: TabState): boolean {
  return allowed[from].includes(to);
}

const nowIso = (): string => new Date().toISOString();

/** Where a new or retried tab waits, given its task. */
export type PendingEntry =
  | { state: typeof TabState.PendingProvision; sandboxId: null; step: typeof Step.Queued }
  | { state: typeof TabState.PendingSessionCreate; sandboxId: string; step: typeof Step.CreatingSession };

/**
 * The one answer to "which pending state?": a task with a sandbox lets the tab wait for its
 * session; any other task (none yet, provisioning, failed) makes it wait for provisioning.
 */
export function pendingStateFor(task: TaskRecord | null | undefined): PendingEntry {
  if (task?.state === TaskProvisioning.Provisioned && task.sandbox) {
    return { state: TabState.PendingSessionCreate, sandboxId: task.sandbox.id, step: Step.CreatingSession };
  }
  return { state: TabState.PendingProvision, sandboxId: null, step: Step.Queued };
}

/** What a create request decides about a tab; the machine decides the rest. */
export type NewTabFields = Pick<TabRecord, 'id' | 'org' | 'task' | 'title' | 'agent' | 'model' | 'clientRequestId'>;

/** The placeholder a create writes: first attempt, pending as `pendingStateFor(task)` says. */
export function newTab(fields: NewTabFields, task: TaskRecord | null | undefined, now = nowIso()): TabRecord {
  const entry = pendingStateFor(task);
  return {
    v: 1,
    id: fields.id,
    org: fields.org,
    task: fields.task,
    state: entry.state,
    title: fields.title,
    agent: fields.agent,
    model: fields.model,
    sessionId: null,
    sandboxId: entry.sandboxId,
    unread: false,
    progress: progressText(entry.step),
    step: entry.step,
    error: null,
    attempt: 1,
    clientRequestId: fields.clientRequestId,
    createdAt: now,
    updatedAt: now,
    readyAt: null,
    closedAt: null,
  };
}

/** The task got its sandbox: a `pending_provision` tab now waits for its session in `sandboxId`. */
export function toPendingSession(tab: TabRecord, sandboxId: string, now = nowIso()): TabRecord | null {
  if (tab.state !== TabState.PendingProvision) return null;
  if (!canTransition(tab.state, TabState.PendingSessionCreate)) return null;
  return {
    ...tab,
    state: TabState.PendingSessionCreate,
    sandboxId,
    step: Step.CreatingSession,
    progress: progressText(Step.CreatingSession),
    updatedAt: now,
  };
}

/**
 * The sandbox a `pending_session_create` tab was waiting in is gone: the tab waits for a new one,
 * with a new attempt so its next session job is not taken for a duplicate.
 */
export function toPendingProvision(tab: TabRecord, now = nowIso()): TabRecord | null {
  if (tab.state !== TabState.PendingSessionCreate) return null;
  if (!canTransition(tab.state, TabState.PendingProvision)) return null;
  return {
    ...tab,
    state: TabState.PendingProvision,
    sandboxId: null,
    attempt: tab.attempt + 1,
    step: Step.Queued,
    progress: progressText(Step.Queued, SandboxLostDetail),
    updatedAt: now,
  };
}

/**
 * The sandbox `lostSandboxId` under a ready or session-waiting tab died, or the task no longer holds
 * it (idle reaping raced a create): the tab forgets its session and sandbox and waits for the task's
 * next sandbox, with a new attempt so its next session job is not taken for a duplicate. A tab on
 * another sandbox is left alone, so a late report of an old sandbox never moves a tab that moved on.
 */
export function toSandboxLost(tab: TabRecord, lostSandboxId: string, now = nowIso()): TabRecord | null {
  if (tab.state !== TabState.Ready && tab.state !== TabState.PendingSessionCreate) return null;
  if (tab.sandboxId !== lostSandboxId) return null;
  if (!canTransition(tab.state, TabState.PendingProvision)) return null;
  return {
    ...tab,
    state: TabState.PendingProvision,
    sessionId: null,
    sandboxId: null,
    attempt: tab.attempt + 1,
    step: Step.Queued,
    progress: progressText(Step.Queued, SandboxLostDetail),
    readyAt: null,
    updatedAt: now,
  };
}

/** The tab's session exists: it is ready, and unread until someone opens it. */
export function toReady(
  tab: TabRecord,
  made: { sessionId: string; sandboxId: string },
  now = nowIso(),
): TabRecord | null {
  if (!canTransition(tab.state, TabState.Ready)) return null;
  return {
    ...tab,
    state: TabState.Ready,
    sessionId: made.sessionId,
    sandboxId: made.sandboxId,
    unread: true,
    step: Step.Ready,
    progress: null,
    error: null,
    readyAt: now,
    updatedAt: now,
  };
}

/** A pending tab failed for good; `retry` leaves the error. */
export function toError(tab: TabRecord, error: ErrorInfo, now = nowIso()): TabRecord | null {
  if (!canTransition(tab.state, TabState.Error)) return null;
  return { ...tab, state: TabState.Error, step: Step.Error, progress: null, error: storedError(error), updatedAt: now };
}

/** Closes a tab in any state but closed; its session, if any, is the caller's to destroy. */
export function toClosed(tab: TabRecord, now = nowIso()): TabRecord | null {
  if (!canTransition(tab.state, TabState.Closed)) return null;
  return { ...tab, state: TabState.Closed, unread: false, progress: null, step: null, closedAt: now, updatedAt: now };
}

/**
 * Retries an `error` tab with a new attempt: back to the session when the task has a sandbox,
 * else to provisioning (`pendingStateFor`). Refused from any other state.
 */
export function toRetry(tab: TabRecord, task: TaskRecord | null | undefined, now = nowIso()): TabRecord | null {
  if (tab.state !== TabState.Error) return null;
  const entry = pendingStateFor(task);
  if (!canTransition(tab.state, entry.state)) return null;
  return {
    ...tab,
    state: entry.state,
    sandboxId: entry.sandboxId,
    attempt: tab.attempt + 1,
    error: null,
    step: entry.step,
    progress: progressText(entry.step),
    updatedAt: now,
  };
}

/**
 * What a `pending_session_create` tab's session job is doing (queue position, retry); null when
 * the tab is not waiting for its session or nothing would change.
 */
export function withSessionProgress(tab: TabRecord, detail?: string, now = nowIso()): TabRecord | null {
  if (tab.state !== TabState.PendingSessionCreate) return null;
  const progress = progressText(Step.CreatingSession, detail);
  if (tab.progress === progress) return null;
  return { ...tab, step: Step.CreatingSession, progress, updatedAt: now };
}
