import type { JetStreamManager } from '@nats-io/jetstream';
import { type TabRecord, TabState, waitsForSandboxSlot } from '@tabmesh/contracts';
import { type Logger, newCorrelationId, type TabFlow } from '@tabmesh/runtime';
import { JobLocator } from './job-locator.js';
import type { TabIndex } from './tab-index.js';

/** Lost-job checks one pass makes at most (two bus reads each); the rest wait for the next pass. */
const MaxLostChecksPerPass = 200;

export type PendingSweepOptions = {
  intervalMs: number;
  /** A pending tab untouched this long is driven again (its job republished under the same dedupe id). */
  staleAfterMs: number;
  /**
   * A pending tab untouched this long whose job is not waiting in the queue has lost it: the job is
   * published under a new dedupe id, once per such period.
   */
  lostAfterMs: number;
  logger: Logger;
};

/**
 * Re-drives pending tabs that have not moved for a while. A process killed between writing a tab
 * and publishing its job would otherwise leave it pending forever; re-publishing is safe because
 * jobs carry dedupe ids and workers are idempotent.
 *
 * A job can also be lost once published: nats-server 2.9 can drop a delivery from a consumer whose
 * leader changed after a node restart, and a job acknowledged without effect is gone too. The same
 * dedupe id would then hold the job back for the whole dedupe window, so a tab stale past
 * `lostAfterMs` whose job is not queued gets one more job per period, under an id of its own.
 * Tabs whose job is queued (behind a backlog) or parked at the sandbox limit are left as they are.
 */
export class PendingSweep {
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly index: TabIndex,
    private readonly flow: TabFlow,
    private readonly jsm: JetStreamManager,
    private readonly opts: PendingSweepOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.opts.intervalMs);
  }

  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let driven = 0;
    try {
      const now = Date.now();
      const jobs = new JobLocator(this.jsm);
      let lostChecks = 0;
      for (const tab of [...this.index.pending.values()]) {
        const shown = this.index.lastProgress(tab);
        const staleFor = now - Date.parse(shown.updatedAt);
        if (staleFor < this.opts.staleAfterMs) continue;
        const correlationId = newCorrelationId();
        try {
          // Its session may be in a job of several tabs (not under its own dedupe id, so driving it
          // would queue a second job): while the task has session work queued, or handed out and
          // not yet presumed lost, it is left to that.
          if (tab.state === TabState.PendingSessionCreate) {
            const work = await jobs.taskSessionWork(tab);
            if (work === 'queued' || (work === 'handed-out' && staleFor < this.opts.lostAfterMs)) continue;
          }
          let redrive = 0;
          if (
            staleFor >= this.opts.lostAfterMs &&
            !waitsForSandboxSlot(shown.progress) &&
            lostChecks < MaxLostChecksPerPass
          ) {
            lostChecks++;
            redrive = await this.redriveRound(jobs, tab, staleFor, correlationId);
          }
          await this.flow.drive(tab, correlationId, { redrive });
          driven++;
        } catch (err) {
          this.opts.logger.warn({ err, tab: tab.id, correlationId }, 'sweep could not drive tab');
        }
      }
      if (driven > 0) this.opts.logger.info({ driven }, 'sweep re-drove stale pending tabs');
    } finally {
      this.sweeping = false;
    }
    return driven;
  }

  /** 0 while the tab's job waits in the queue; else the period of staleness it is in (1, 2, …). */
  private async redriveRound(
    jobs: JobLocator,
    tab: TabRecord,
    staleFor: number,
    correlationId: string,
  ): Promise<number> {
    const where = await jobs.whereIs(tab);
    if (where === null || where === 'queued') return 0;
    const round = Math.floor(staleFor / this.opts.lostAfterMs);
    this.opts.logger.warn(
      {
        tab: tab.id,
        task: tab.task,
        org: tab.org,
        state: tab.state,
        job: where,
        staleMs: staleFor,
        round,
        correlationId,
      },
      'pending tab untouched and its job not queued: publishing the job again',
    );
    return round;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
