import type { KV } from '@nats-io/kv';
import type { Logger } from '@tabmesh/runtime';
import { requestKey } from './ids.js';
import type { TabIndex } from './tab-index.js';

/** Purges closed tabs (and their clientRequestId entry) once their retention period is over. */
export class ClosedReaper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly index: TabIndex,
    private readonly tabs: KV,
    private readonly requests: KV,
    private readonly opts: { retentionMs: number; intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.reap(), this.opts.intervalMs);
  }

  async reap(): Promise<number> {
    const cutoff = Date.now() - this.opts.retentionMs;
    let purged = 0;
    for (const [key, tab] of [...this.index.closed]) {
      if (tab.closedAt > cutoff) continue;
      try {
        await this.tabs.purge(key);
        if (tab.clientRequestId) await this.requests.purge(requestKey(tab.org, tab.task, tab.clientRequestId));
        this.index.closed.delete(key);
        purged++;
      } catch (err) {
        this.opts.logger.warn({ err, key }, 'could not purge closed tab');
      }
    }
    if (purged > 0) this.opts.logger.info({ purged }, 'purged closed tabs past retention');
    return purged;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
