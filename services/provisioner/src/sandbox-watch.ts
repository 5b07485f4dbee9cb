import { type SandboxView, type TaskRecord, taskKey } from '@tabmesh/contracts';
import type { SandboxAccess } from '@tabmesh/providers';
import {
  holderIsCurrent,
  type Logger,
  newCorrelationId,
  type ProvisionedTasks,
  type SandboxSlots,
  type TabFlow,
} from '@tabmesh/runtime';

export type SandboxWatchOptions = {
  intervalMs: number;
  /** A starting holder whose job stopped renewing this long ago is a dead job's. */
  leaseMs: number;
  logger: Logger;
};

/** Probes in flight at once: a health check may take its full timeout. */
const ProbeBatch = 8;
/** A failed probe is repeated after this pause before the sandbox counts as lost. */
const ConfirmAfterMs = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs in every provisioner, on a timer:
 * - the liveness watch: every provisioned task's sandbox (of this provider) is asked whether it
 *   still answers; one that is lost (two failed probes a second apart, the task still naming it)
 *   is replaced: a new generation, its ready and waiting tabs back to provisioning (TabFlow);
 * - the slot reconciliation: holders of the sandbox cap whose task no longer holds them (a
 *   provisioner SIGKILLed at the wrong moment, a lost teardown job) are dropped, destroying their
 *   sandbox first if it still runs, so the cap never leaks.
 * Several provisioners doing the same is safe: every write is compare-and-set.
 */
export class SandboxWatch {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly tasks: ProvisionedTasks,
    private readonly flow: TabFlow,
    private readonly provider: SandboxAccess,
    private readonly slots: SandboxSlots,
    private readonly opts: SandboxWatchOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.checkLiveness();
        if (this.slots.enabled) await this.reconcileSlots();
      } catch (err) {
        this.opts.logger.warn({ err }, 'sandbox watch tick failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async checkLiveness(): Promise<void> {
    // Another provider's records are not ours to judge (ownSandboxesOnly would refuse them anyway).
    const mine = [...this.tasks.byKey.values()].filter((t) => t.sandbox?.provider === this.provider.name);
    for (let i = 0; i < mine.length; i += ProbeBatch) {
      await Promise.all(mine.slice(i, i + ProbeBatch).map((t) => this.probe(t)));
    }
  }

  private async probe(task: TaskRecord): Promise<void> {
    const sandbox = task.sandbox;
    if (!sandbox) return;
    if (await this.alive(sandbox)) return;
    await sleep(ConfirmAfterMs);
    const current = await this.flow.tasks.get(taskKey(task.org, task.task));
    if (current?.value.sandbox?.id !== sandbox.id || (await this.alive(sandbox))) return;
    const correlationId = newCorrelationId();
    this.opts.logger.warn(
      { org: task.org, task: task.task, sandbox: sandbox.id, correlationId },
      'sandbox lost; its tabs move to a new one',
    );
    await this.flow.replaceLostSandbox(task, sandbox.id, correlationId);
  }

  private async alive(sandbox: SandboxView): Promise<boolean> {
    try {
      return await this.provider.sandboxAlive(sandbox);
    } catch (err) {
      this.opts.logger.warn({ err, sandbox: sandbox.id }, 'sandbox probe failed');
      return false;
    }
  }

  private async reconcileSlots(): Promise<void> {
    const now = Date.now();
    for (const h of await this.slots.holders()) {
      const task = (await this.flow.tasks.getTask(h.org, h.task))?.value;
      if (holderIsCurrent(h, task)) continue;
      if (h.sandbox === null && now - Date.parse(h.renewedAt) < this.opts.leaseMs) continue; // its job still works
      if (h.sandbox && h.sandbox.provider === this.provider.name && (await this.alive(h.sandbox))) {
        this.opts.logger.warn(
          { org: h.org, task: h.task, sandbox: h.sandbox.id },
          'destroying a sandbox its task no longer holds',
        );
        await this.provider.destroySandbox(h.sandbox);
      }
      const dropped = await this.slots.release(
        (x) => x.org === h.org && x.task === h.task && x.generation === h.generation && x.renewedAt === h.renewedAt,
      );
      if (dropped > 0)
        this.opts.logger.info({ org: h.org, task: h.task, generation: h.generation }, 'stale sandbox slot released');
    }
  }
}
