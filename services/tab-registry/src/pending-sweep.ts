import { type Logger, newCorrelationId, type TabFlow } from '@tabmesh/runtime';
import type { TabIndex } from './tab-index.js';

/**
 * Re-drives pending tabs that have not moved for a while. A process killed between writing a tab
 * and publishing its job would otherwise leave it pending forever; re-publishing is safe because
 * jobs carry dedupe ids and workers are idempotent.
 */
export class PendingSweep {
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly index: TabIndex,
    private readonly flow: TabFlow,
    private readonly opts: { intervalMs: number; staleAfterMs: number; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.opts.intervalMs);
  }

  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let driven = 0;
    try {
      const cutoff = Date.now() - this.opts.staleAfterMs;
      for (const tab of [...this.index.pending.values()]) {
        if (Date.parse(tab.updatedAt) > cutoff) continue;
        const correlationId = newCorrelationId();
        try {
          await this.flow.drive(tab, correlationId);
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

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
