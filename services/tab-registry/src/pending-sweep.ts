import { KvWatchInclude } from '@nats-io/kv';
import { TabRecordSchema, isPendingState, type TabRecord } from '@tabmesh/contracts';
import { newCorrelationId, type Logger, type TabFlow } from '@tabmesh/runtime';
import type { KV } from '@nats-io/kv';

/**
 * Re-drives pending tabs that have not moved for a while. A process killed between writing a tab
 * and publishing its job would otherwise leave it pending forever; re-publishing is safe because
 * jobs carry dedupe ids and workers are idempotent. The index of pending tabs is kept from a KV
 * watch, so a sweep reads no more than the pending tabs.
 */
export class PendingSweep {
  private readonly pending = new Map<string, TabRecord>();
  private timer: NodeJS.Timeout | null = null;
  private stopWatch: (() => void) | null = null;
  private sweeping = false;

  constructor(
    private readonly kv: KV,
    private readonly flow: TabFlow,
    private readonly opts: { intervalMs: number; staleAfterMs: number; logger: Logger },
  ) {}

  async start(): Promise<void> {
    const watch = await this.kv.watch({ key: '>', include: KvWatchInclude.LastValue });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        if (e.operation !== 'PUT') {
          this.pending.delete(e.key);
          continue;
        }
        const parsed = TabRecordSchema.safeParse(safeJson(e.value));
        if (parsed.success && isPendingState(parsed.data.state)) this.pending.set(e.key, parsed.data);
        else this.pending.delete(e.key);
      }
    })();
    this.timer = setInterval(() => void this.sweep(), this.opts.intervalMs);
  }

  /** The pending tabs as last seen on the watch. */
  pendingTabs(): Iterable<TabRecord> {
    return this.pending.values();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let driven = 0;
    try {
      const cutoff = Date.now() - this.opts.staleAfterMs;
      for (const tab of [...this.pending.values()]) {
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
    this.stopWatch?.();
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return null;
  }
}
