import {
  ErrorCode,
  type SessionCreate,
  type SessionJob,
  TabmeshError,
  type TabRecord,
  TabState,
  TaskProvisioning,
  type TaskRecord,
  tabKey,
  toError,
  toReady,
  withSessionProgress,
} from '@tabmesh/contracts';
import type { SandboxAccess } from '@tabmesh/providers';
import {
  errorInfoOf,
  type FailureInfo,
  type JobContext,
  type Logger,
  type Semaphore,
  type TabFlow,
  type TabStore,
  type TaskStore,
  type Versioned,
} from '@tabmesh/runtime';

export type SessionDeps = {
  tabs: TabStore;
  tasks: TaskStore;
  /**
   * The task as the watch of provisioned tasks last saw it, if it holds a sandbox. A few
   * milliseconds behind at most: trusted only to say that a sandbox is still the task's, never that
   * it is not (that is always read).
   */
  provisionedTask: (org: string, task: string) => TaskRecord | null;
  flow: TabFlow;
  provider: SandboxAccess;
  /** Told how long a tab took from creation to ready (seconds), once, when this job made it ready. */
  onReady?: (seconds: number) => void;
  /**
   * Sessions being made at once by this process (TABMESH_CONCURRENCY), counted per tab: a
   * `create_many` job's tabs take one each, so the provider sees no more at once than with a job each.
   */
  sessionSlots?: Semaphore;
};

/** A tab this job made ready, still to be checked against its task (see confirmOnSandbox). */
type MadeReady = { tab: TabRecord; sandboxId: string; logger: Logger };

/**
 * Creates the agent session of each tab attempt of the job and records it with compare-and-set. A
 * session whose tab moved on meanwhile (closed, or won by a redelivered copy of this job) is
 * destroyed, so a tab never ends with two sessions or a closed tab with a live one. The tabs of a
 * `create_many` job are made at once and checked against their task with one read; if any failed,
 * the job fails after the others are done, and its retry skips the tabs already ready.
 */
export async function handleSession(deps: SessionDeps, ctx: JobContext<SessionJob>): Promise<void> {
  const { job, logger } = ctx;
  if (job.op === 'destroy' || job.op === 'destroy_many') {
    const sessions = job.op === 'destroy' ? [job.sessionId] : job.sessions.map((s) => s.sessionId);
    const sandbox =
      deps.provisionedTask(job.org, job.task)?.sandbox ?? (await deps.tasks.getTask(job.org, job.task))?.value.sandbox;
    // Destroying is idempotent: a redelivery after some of them destroys the rest.
    if (sandbox) await Promise.all(sessions.map((id) => deps.provider.destroySession(sandbox, id)));
    if (job.op === 'destroy') logger.debug({ sessionId: job.sessionId }, 'session destroyed');
    else logger.debug({ sessionIds: sessions }, 'sessions destroyed');
    return;
  }
  if (job.op === 'create') {
    const made = await createSession(deps, ctx, job, logger);
    if (made) await confirmOnSandbox(deps, ctx, [made]);
    return;
  }
  const results = await Promise.allSettled(
    job.tabs.map((entry) => createSession(deps, ctx, entry, logger.child({ tab: entry.tab }))),
  );
  const made = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
  if (made.length > 0) await confirmOnSandbox(deps, ctx, made);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** One tab attempt: its session made and recorded; the tab made ready, or null when it moved on. */
async function createSession(
  deps: SessionDeps,
  ctx: JobContext<SessionJob>,
  entry: SessionCreate,
  logger: Logger,
): Promise<MadeReady | null> {
  const { org, task } = ctx.job;
  const key = tabKey(org, task, entry.tab);
  const tab = firstSight(org, task, entry, ctx.delivery) ?? (await deps.tabs.get(key));
  if (
    !tab ||
    tab.value.state !== TabState.PendingSessionCreate ||
    tab.value.attempt !== entry.attempt ||
    tab.value.sessionId
  ) {
    const redelivered =
      tab &&
      ctx.delivery > 1 &&
      tab.value.state === TabState.Closed &&
      tab.value.attempt === entry.attempt &&
      !tab.value.sessionId;
    const sandbox = redelivered ? (await deps.tasks.getTask(org, task))?.value.sandbox : null;
    if (sandbox) {
      // A redelivery for a tab closed while pending: the delivery before may have died after the
      // session was made and before it was recorded. Session ids are per tab attempt, so the
      // provider can name that session without having seen it; destroying is idempotent.
      const sessionId = deps.provider.sessionIdOf(entry.tab, entry.attempt);
      await deps.provider.destroySession(sandbox, sessionId);
      logger.info({ sessionId }, 'tab closed before its session was recorded; session destroyed');
      return null;
    }
    logger.info({ state: tab?.value.state ?? null }, 'stale session job skipped');
    return null;
  }
  // The watch answers when it shows the tab's sandbox still the task's; anything else is read, since
  // only what is stored may send the tab back to provisioning.
  const seen = deps.provisionedTask(org, task);
  const taskNow =
    seen?.sandbox && seen.sandbox.id === tab.value.sandboxId ? { value: seen } : await deps.tasks.getTask(org, task);
  if (
    taskNow?.value.state !== TaskProvisioning.Provisioned ||
    !taskNow.value.sandbox ||
    taskNow.value.sandbox.id !== tab.value.sandboxId
  ) {
    // The task no longer holds the sandbox this tab waits in (reaped idle, lost, torn down): never
    // make a session there; the tab goes back to provisioning and ends on the task's next sandbox.
    logger.info(
      { sandbox: tab.value.sandboxId, taskSandbox: taskNow?.value.sandbox?.id ?? null },
      "the task no longer holds the tab's sandbox; back to provisioning",
    );
    await deps.flow.replaceLostSandbox(tab.value, tab.value.sandboxId ?? '', ctx.correlationId);
    return null;
  }
  const sandbox = taskNow.value.sandbox;
  // Picked up: whatever the queue said while it waited ("2 ahead", "retrying") is over.
  // Only when the tab as just read says something else (a queue position, a retry): the common
  // case writes nothing and reads nothing more. Either way the ready write starts from what is stored.
  let known: Versioned<TabRecord> | undefined = tab;
  if (withSessionProgress(tab.value) !== null) {
    const picked = await deps.flow.reportSessionProgress(tab.value, undefined, tab);
    known = picked ? { value: picked.value, revision: picked.revision } : undefined;
  }
  let sessionId: string;
  await deps.sessionSlots?.acquire();
  try {
    ({ sessionId } = await deps.provider.createSession(sandbox, {
      org,
      task,
      tab: entry.tab,
      attempt: entry.attempt,
      agent: tab.value.agent,
      model: tab.value.model,
      signal: ctx.signal,
    }));
  } catch (err) {
    if (!(err instanceof TabmeshError && err.code === ErrorCode.SandboxGone)) throw err;
    if (await deps.provider.sandboxAlive(sandbox)) throw err;
    logger.warn({ sandbox: sandbox.id }, 'sandbox is gone; provisioning a new one');
    await deps.flow.replaceLostSandbox(tab.value, sandbox.id, ctx.correlationId);
    return null;
  } finally {
    deps.sessionSlots?.release();
  }
  const res = await deps.tabs.mutate(
    key,
    (cur) =>
      cur && cur.value.attempt === entry.attempt && !cur.value.sessionId
        ? toReady(cur.value, { sessionId, sandboxId: sandbox.id })
        : null,
    known,
  );
  if (!res?.changed) {
    if (res && res.value.state !== TabState.Closed && res.value.sessionId === sessionId) {
      // Another delivery of this job recorded the same session (session ids are per tab attempt):
      // it is the tab's session now, so it must live on.
      logger.info({ sessionId }, 'session already recorded by another delivery');
      return null;
    }
    logger.info(
      { sessionId, state: res?.value.state ?? null },
      'tab moved on during session creation; destroying the session',
    );
    await deps.provider.destroySession(sandbox, sessionId);
    return null;
  }
  return { tab: res.value, sandboxId: sandbox.id, logger: logger.child({ sessionId }) };
}

/**
 * Checked after the ready writes: a reaper that let the sandbox go in between has either seen these
 * tabs ready (and moved them) or is seen here; either way no tab stays on it. One read of the task
 * covers every tab of the job, all written before it.
 */
async function confirmOnSandbox(deps: SessionDeps, ctx: JobContext<SessionJob>, made: MadeReady[]): Promise<void> {
  const { org, task } = ctx.job;
  const after = await deps.tasks.getTask(org, task);
  const lost = new Set<string>();
  for (const { tab, sandboxId, logger } of made) {
    if (after?.value.sandbox?.id !== sandboxId) {
      logger.info(
        { sandbox: sandboxId },
        'the task let the sandbox go while the session was made; back to provisioning',
      );
      lost.add(sandboxId);
      continue;
    }
    if (tab.readyAt) deps.onReady?.((Date.parse(tab.readyAt) - Date.parse(tab.createdAt)) / 1000);
    // Debug, as the other per-tab lines: at info a line per tab costs this service about a tenth of its CPU.
    logger.debug('tab ready');
  }
  for (const sandboxId of lost) await deps.flow.replaceLostSandbox({ org, task }, sandboxId, ctx.correlationId);
}

/**
 * The tab as the job's publisher wrote it, for a first delivery: it may be a moment old, which the
 * ready write's compare-and-set finds out (and a session made for a tab closed meanwhile is then
 * destroyed). A redelivery reads, since the delivery before it may have moved the tab on.
 */
function firstSight(org: string, task: string, entry: SessionCreate, delivery: number): Versioned<TabRecord> | null {
  const written = entry.written;
  if (!written || delivery > 1) return null;
  const { tab } = written;
  if (tab.org !== org || tab.task !== task || tab.id !== entry.tab) return null;
  return { value: tab, revision: written.revision };
}

/** A retry shows as progress on the tabs still waiting for this job; the last failure puts them in `error`. */
export async function onSessionFailure(
  deps: SessionDeps,
  ctx: JobContext<SessionJob>,
  failure: FailureInfo,
): Promise<void> {
  const { job } = ctx;
  if (job.op === 'destroy' || job.op === 'destroy_many') return;
  const seconds = Math.max(1, Math.round((failure.retryInMs ?? 0) / 1000));
  const entries: SessionCreate[] = job.op === 'create' ? [job] : job.tabs;
  await Promise.all(
    entries.map((entry) =>
      deps.tabs.mutate(tabKey(job.org, job.task, entry.tab), (cur) => {
        // Only the attempt this job creates: an older attempt's failure must not touch a retried tab,
        // and a tab of the job that is already ready is not waiting any more.
        if (!cur || cur.value.state !== TabState.PendingSessionCreate || cur.value.attempt !== entry.attempt)
          return null;
        if (!failure.final)
          return withSessionProgress(cur.value, `retrying in ${seconds} s, ${ctx.delivery} of ${ctx.maxDeliver}`);
        return toError(cur.value, { ...errorInfoOf(failure.error, ErrorCode.SessionFailed), retryable: true });
      }),
    ),
  );
}
