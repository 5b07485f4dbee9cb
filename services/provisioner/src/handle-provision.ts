import type { ProvisionJob, SandboxView, TaskProgress, TaskRecord } from '@tabmesh/contracts';
import {
  ErrorCode,
  Step,
  sandboxLimitDetail,
  TabState,
  TaskProvisioning,
  tabKey,
  taskKey,
  toError,
  toProvisioned,
  toTaskError,
} from '@tabmesh/contracts';
import type { SandboxAccess } from '@tabmesh/providers';
import {
  errorInfoOf,
  type FailureInfo,
  type JobContext,
  type SandboxSlots,
  type SlotHolderRef,
  type TabFlow,
  type Versioned,
} from '@tabmesh/runtime';

export type ProvisionDeps = {
  flow: TabFlow;
  /** Checks every record it is handed names it (ownSandboxesOnly); credentials through `sandbox-secrets`. */
  provider: SandboxAccess;
  slots: SandboxSlots;
  /** How often a starting holder renews its slot lease. */
  renewMs: number;
};

/**
 * Takes a sandbox slot for this generation, waiting (parked: no worker slot, no delivery spent)
 * while the deployment is at its cap. False when the task moved on while it waited.
 */
async function takeSlot(deps: ProvisionDeps, ctx: JobContext<ProvisionJob>, where: SlotHolderRef): Promise<boolean> {
  let logged = false;
  for (;;) {
    if (await deps.slots.acquire(where)) return true;
    const task = await deps.flow.tasks.getTask(where.org, where.task);
    if (task?.value.generation !== where.generation || task.value.state !== TaskProvisioning.Provisioning) return false;
    if (!logged) ctx.logger.info({ cap: deps.slots.cap }, 'sandbox limit reached; provisioning waits for a slot');
    logged = true;
    await deps.flow.reportProvisionStep(where, Step.Queued, sandboxLimitDetail(deps.slots.cap), {
      repeatUnchanged: true,
    });
    await ctx.park(() => deps.slots.waitForRoom(ctx.signal));
  }
}

/**
 * Provisions one task generation: creates (or reuses) the sandbox, records it on the task with
 * compare-and-set, then moves every tab waiting on it to session creation.
 */
export async function handleProvision(deps: ProvisionDeps, ctx: JobContext<ProvisionJob>): Promise<void> {
  const { job, logger } = ctx;
  if (job.op === 'teardown') {
    await deps.provider.destroySandbox(job.sandbox);
    if (deps.slots.enabled) await deps.slots.releaseSandbox(job.org, job.task, job.sandbox.id, job.generation);
    logger.info({ sandbox: job.sandbox.id }, 'sandbox destroyed');
    return;
  }
  const { flow, provider } = deps;
  const current = await flow.tasks.getTask(job.org, job.task);
  if (!current || current.value.generation !== job.generation) {
    logger.info({ generation: current?.value.generation ?? null }, 'stale provision job skipped');
    return;
  }
  let sandbox = current.value.sandbox;
  if (current.value.state === TaskProvisioning.Provisioning) {
    const where = { org: job.org, task: job.task, generation: job.generation };
    if (deps.slots.enabled && !(await takeSlot(deps, ctx, where))) {
      logger.info('task moved on while waiting for a sandbox slot; job skipped');
      return;
    }
    const renew = deps.slots.enabled
      ? setInterval(() => void deps.slots.renew(where).catch(() => undefined), deps.renewMs)
      : null;
    let made: SandboxView;
    // The task and its progress entry as this job last saw them: each step's compare-and-set starts
    // from there, not from a read.
    const task = { known: current as Versioned<TaskRecord> | undefined };
    const progress = { known: undefined as TaskProgress | undefined };
    try {
      made = await provider.provision({
        ...where,
        signal: ctx.signal,
        onStep: async (step) => {
          await flow.reportProvisionStep(where, step, undefined, { task, progress });
        },
      });
    } finally {
      if (renew) clearInterval(renew);
    }
    if (deps.slots.enabled) await deps.slots.attach(where, made);
    const res = await flow.tasks.mutate(
      taskKey(job.org, job.task),
      (cur) => (cur && cur.value.generation === job.generation ? toProvisioned(cur.value, made) : null),
      task.known,
    );
    if (!res || (!res.changed && res.value.sandbox?.id !== made.id)) {
      // Torn down or superseded while we worked: what we made belongs to nobody.
      logger.info({ sandbox: made.id }, 'task moved on during provisioning; destroying the new sandbox');
      await provider.destroySandbox(made);
      if (deps.slots.enabled) await deps.slots.releaseGeneration(where);
      return;
    }
    sandbox = res.value.sandbox;
    // Not changed means another delivery of this job recorded the same sandbox first.
    logger.info(
      { sandbox: made.id },
      res.changed ? 'task provisioned' : 'task already provisioned by another delivery',
    );
  } else if (current.value.state !== TaskProvisioning.Provisioned) {
    logger.info({ state: current.value.state }, 'task not awaiting provisioning; job skipped');
    return;
  }
  if (!sandbox) return;
  // Written the task first, now scan the tabs: a tab created meanwhile is moved on either here or
  // by tab-registry, which reads the task after writing the tab. All at once (each tab is its own
  // compare-and-set), and handed to session creation in one job.
  const waiting = (await flow.tabs.listOpen(job.org, job.task)).filter(
    (tab) => tab.value.state === TabState.PendingProvision,
  );
  await flow.advanceAllToSession(job.org, job.task, waiting, sandbox.id, ctx.correlationId);
}

/** A retry shows as progress; the last failure puts the task and its waiting tabs in `error`. */
export async function onProvisionFailure(
  deps: ProvisionDeps,
  ctx: JobContext<ProvisionJob>,
  failure: FailureInfo,
): Promise<void> {
  const { job } = ctx;
  if (job.op === 'teardown') return;
  const { flow } = deps;
  const where = { org: job.org, task: job.task, generation: job.generation };
  if (!failure.final) {
    const seconds = Math.max(1, Math.round((failure.retryInMs ?? 0) / 1000));
    await flow.reportProvisionStep(
      where,
      Step.Queued,
      `retrying in ${seconds} s, ${ctx.delivery} of ${ctx.maxDeliver}`,
    );
    return;
  }
  const error = { ...errorInfoOf(failure.error, ErrorCode.ProvisionFailed), retryable: true };
  const res = await flow.tasks.mutate(taskKey(job.org, job.task), (cur) =>
    cur && cur.value.generation === job.generation ? toTaskError(cur.value, error) : null,
  );
  // Failed for good: whatever it held of the cap is free (a provider cleans up its own half-start).
  if (deps.slots.enabled) await deps.slots.releaseGeneration(where);
  if (!res?.changed) return;
  for (const tab of await flow.tabs.listOpen(job.org, job.task)) {
    if (tab.value.state !== TabState.PendingProvision) continue;
    // Only the tabs waiting on this provisioning fail with it; a tab waiting for its session does not.
    await flow.tabs.mutate(tabKey(job.org, job.task, tab.value.id), (cur) =>
      cur && cur.value.state === TabState.PendingProvision ? toError(cur.value, error) : null,
    );
  }
}
