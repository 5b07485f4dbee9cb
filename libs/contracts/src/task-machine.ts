import { type ErrorInfo, storedError } from './errors.js';
import { progressText, SandboxLostDetail, Step } from './progress.js';
import { type SandboxView, sandboxView, TaskProvisioning, type TaskRecord } from './task.js';

/**
 * The task provisioning state machine: the only module that writes a task's `state`. Each named
 * transition checks `canTaskTransition` (and its own precondition) and returns the new record, or
 * null when it is refused: the record stays as it is, which inside `TypedBucket.mutate` is exactly
 * what null means. Pure: no I/O, the clock is a parameter.
 *
 * Whether a job is still current (its generation) is the caller's check, not the machine's.
 */
const allowed: Record<TaskProvisioning, readonly TaskProvisioning[]> = {
  unprovisioned: ['provisioning'],
  provisioning: ['provisioned', 'error', 'unprovisioned'],
  // Back to provisioning only when the sandbox was lost; teardown from any state but unprovisioned.
  provisioned: ['provisioning', 'unprovisioned'],
  error: ['provisioning', 'unprovisioned'],
};

export function canTaskTransition(from: TaskProvisioning, to: TaskProvisioning): boolean {
  return allowed[from].includes(to);
}

const nowIso = (): string => new Date().toISOString();

/** What a task that holds no sandbox (any more) carries. */
const withoutSandbox = { sandbox: null, error: null, provisionedAt: null } as const;

/** A task never seen: unprovisioned, generation 0. Not stored until its first transition. */
export function newTask(org: string, task: string, now = nowIso()): TaskRecord {
  return {
    v: 1,
    org,
    task,
    state: TaskProvisioning.Unprovisioned,
    generation: 0,
    step: null,
    progress: null,
    ...withoutSandbox,
    updatedAt: now,
  };
}

/** Starts a new provisioning generation (new dedupe id) for a task without a sandbox: unprovisioned or failed. */
export function toProvisioning(task: TaskRecord, now = nowIso()): TaskRecord | null {
  // A provisioned task keeps its sandbox; only its loss (toReprovisioning) starts a new one.
  if (task.state === TaskProvisioning.Provisioned) return null;
  return startGeneration(task, progressText(Step.Queued), now);
}

/** The provisioned task's sandbox `lostSandboxId` is gone: starts a new generation to replace it. */
export function toReprovisioning(task: TaskRecord, lostSandboxId: string, now = nowIso()): TaskRecord | null {
  if (task.state !== TaskProvisioning.Provisioned || task.sandbox?.id !== lostSandboxId) return null;
  return startGeneration(task, progressText(Step.Queued, SandboxLostDetail), now);
}

function startGeneration(task: TaskRecord, progress: string, now: string): TaskRecord | null {
  return transition(task, TaskProvisioning.Provisioning, now, {
    ...withoutSandbox,
    generation: task.generation + 1,
    step: Step.Queued,
    progress,
  });
}

/** Records the sandbox a provisioning task now has: which one only, never how to reach it. */
export function toProvisioned(task: TaskRecord, sandbox: SandboxView, now = nowIso()): TaskRecord | null {
  return transition(task, TaskProvisioning.Provisioned, now, {
    step: Step.Ready,
    progress: null,
    sandbox: sandboxView(sandbox),
    error: null,
    provisionedAt: now,
  });
}

/** Provisioning failed for good; a retry or a new create starts a new generation. */
export function toTaskError(task: TaskRecord, error: ErrorInfo, now = nowIso()): TaskRecord | null {
  return transition(task, TaskProvisioning.Error, now, { step: Step.Error, progress: null, error: storedError(error) });
}

/**
 * Teardown: the task forgets its sandbox and starts a new generation, so a late job of the old
 * one is ignored. An unprovisioned task has nothing to tear down (refused).
 */
export function toUnprovisioned(task: TaskRecord, now = nowIso()): TaskRecord | null {
  return transition(task, TaskProvisioning.Unprovisioned, now, {
    ...withoutSandbox,
    generation: task.generation + 1,
    step: null,
    progress: null,
  });
}

/** The one place a task's `state` is written: refused (null) unless the table allows `from → to`. */
function transition(
  task: TaskRecord,
  to: TaskProvisioning,
  now: string,
  fields: Partial<Omit<TaskRecord, 'state' | 'updatedAt'>>,
): TaskRecord | null {
  if (!canTaskTransition(task.state, to)) return null;
  return { ...task, ...fields, state: to, updatedAt: now };
}

/**
 * Idle reaping: the task had no open tab for TABMESH_SANDBOX_IDLE_MS, so it gives up its sandbox
 * `sandboxId` and is unprovisioned again (a new generation; the next tab provisions anew). Only a
 * provisioned task still holding that very sandbox is reaped, so a reaper acting on an old reading
 * never takes a sandbox the task got since.
 */
export function toIdleReaped(task: TaskRecord, sandboxId: string, now = nowIso()): TaskRecord | null {
  if (task.state !== TaskProvisioning.Provisioned || task.sandbox?.id !== sandboxId) return null;
  return toUnprovisioned(task, now);
}

/** The step a provisioning task is at; null when it is not provisioning or nothing would change. */
export function withTaskProvisionStep(
  task: TaskRecord,
  step: Step,
  detail?: string,
  now = nowIso(),
): TaskRecord | null {
  if (task.state !== TaskProvisioning.Provisioning) return null;
  const progress = progressText(step, detail);
  if (task.step === step && task.progress === progress) return null;
  return { ...task, step, progress, updatedAt: now };
}
