import type { JetStreamManager } from '@nats-io/jetstream';
import { SessionPersistNames, sessionPersistKey } from '@tabmesh/contracts';
import type { Logger, TabStore, TypedBucket } from '@tabmesh/runtime';
import type { z } from 'zod';
import { requestKey } from './ids.js';
import type { TabIndex } from './tab-index.js';
import type { TabSlots } from './tab-slots.js';

/** How long a purge marker stays for watchers to see before it is erased (at most the retention). */
export const MarkerGraceMs = 60_000;

export type ReaperStores = {
  tabs: TabStore;
  requests: TypedBucket<z.ZodString>;
  slots: TabSlots;
  jsm: JetStreamManager;
};

/**
 * Purges closed tabs once their retention period is over, and everything kept for them: the
 * clientRequestId entry, the tab's slot (if its close did not give it back), and its session's
 * record (KV `sessions`) and events (stream SESSION_EVENTS), which the persist driver keeps for
 * resuming. The tab's purge marker, left for watchers, is erased on a later pass.
 */
export class ClosedReaper {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly index: TabIndex,
    private readonly stores: ReaperStores,
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
        if (tab.sessionId) await this.pruneSession(tab.sessionId);
        if (tab.clientRequestId) await this.stores.requests.erase(requestKey(tab.org, tab.task, tab.clientRequestId));
        await this.stores.slots.release(tab.org, tab.task, tab.tab);
        await this.stores.tabs.kv.purge(key);
        this.index.closed.delete(key);
        purged++;
      } catch (err) {
        this.opts.logger.warn({ err, key }, 'could not purge closed tab');
      }
    }
    const erased = await this.eraseMarkers();
    if (purged > 0 || erased > 0)
      this.opts.logger.info({ purged, markersErased: erased }, 'purged closed tabs past retention');
    return purged;
  }

  /** The session store of a destroyed session: no marker is left, as nothing watches it. */
  private async pruneSession(sessionId: string): Promise<void> {
    const key = sessionPersistKey(sessionId);
    await this.stores.jsm.streams.purge(`KV_${SessionPersistNames.bucket}`, {
      filter: `$KV.${SessionPersistNames.bucket}.${key}`,
    });
    await this.stores.jsm.streams.purge(SessionPersistNames.stream, {
      filter: `${SessionPersistNames.subjectPrefix}.${key}`,
    });
  }

  private async eraseMarkers(): Promise<number> {
    const cutoff = Date.now() - Math.min(MarkerGraceMs, this.opts.retentionMs);
    let erased = 0;
    for (const [key, at] of [...this.index.markers]) {
      if (at > cutoff) continue;
      try {
        await this.stores.tabs.erase(key);
        this.index.markers.delete(key);
        erased++;
      } catch (err) {
        this.opts.logger.warn({ err, key }, 'could not erase purge marker');
      }
    }
    return erased;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
