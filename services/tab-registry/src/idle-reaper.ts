import { TabState, TaskProvisioning, type TaskRecord, taskKey, toIdleReaped } from '@tabmesh/contracts';
import { type Logger, newCorrelationId, type ProvisionedTasks, type TabFlow } from '@tabmesh/runtime';
import type { TabIndex } from './tab-index.js';

/**
 * Destroys the sandbox of a task that has had no open tab for TABMESH_SANDBOX_IDLE_MS: the task is
 * unprovisioned again (a new generation) and the sandbox goes to the provisioner as a teardown job,
 * which destroys it with its sessions and frees its slot of the cap. A new tab provisions anew.
 *
 * A create may race it. The task write is a compare-and-set on the revision the reaper read before
 * it scanned the tabs, and after it the reaper scans again and sends any tab that slipped in on the
 * old sandbox back to provisioning; the session-creator, for its part, refuses a sandbox the task no
 * longer holds and checks again after writing a tab ready. So a tab always ends on a live sandbox.
 */
export class IdleReaper {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly index: TabIndex,
    private readonly provisioned: ProvisionedTasks,
    private readonly flow: TabFlow,
    private readonly opts: { idleMs: number; intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.reap(), this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass over the provisioned tasks; returns how many sandboxes it let go. */
  async reap(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let reaped = 0;
    try {
      const now = Date.now();
      for (const task of [...this.provisioned.byKey.values()]) {
        if (this.index.openTabs(task.org, task.task) > 0) continue;
        const lastClose = this.index.lastClosedAt.get(taskKey(task.org, task.task)) ?? 0;
        if (now - Math.max(Date.parse(task.provisionedAt ?? task.updatedAt), lastClose) < this.opts.idleMs) continue;
        try {
          if (await this.reapTask(task)) reaped++;
        } catch (err) {
          this.opts.logger.warn({ err, org: task.org, task: task.task }, 'idle reaper could not reap task');
        }
      }
    } finally {
      this.running = false;
    }
    return reaped;
  }

  private async reapTask(seen: TaskRecord): Promise<boolean> {
    const { org, task } = seen;
    const key = taskKey(org, task);
    const current = await this.flow.tasks.get(key);
    const sandbox = current?.value.sandbox;
    if (!current || current.value.state !== TaskProvisioning.Provisioned || !sandbox) return false;
    // The authoritative check: the index may lag the bucket by a moment.
    const tabs = await this.flow.tabs.listTask(org, task);
    if (tabs.some((t) => t.value.state !== TabState.Closed)) return false;
    const lastClose = Math.max(0, ...tabs.map((t) => Date.parse(t.value.closedAt ?? t.value.updatedAt)));
    if (
      Date.now() - Math.max(Date.parse(current.value.provisionedAt ?? current.value.updatedAt), lastClose) <
      this.opts.idleMs
    )
      return false;
    const next = toIdleReaped(current.value, sandbox.id);
    if (!next || (await this.flow.tasks.update(key, next, current.revision)) === null) return false;
    const correlationId = newCorrelationId();
    await this.flow.enqueueSandboxDestroy(org, task, next.generation, sandbox, correlationId);
    this.index.lastClosedAt.delete(key);
    // A create that wrote its tab after the scan above may have put it on this sandbox.
    const moved = await this.flow.rehomeTabs(org, task, sandbox.id, correlationId);
    this.opts.logger.info({ org, task, sandbox: sandbox.id, moved, correlationId }, 'idle sandbox reaped');
    return true;
  }
}
