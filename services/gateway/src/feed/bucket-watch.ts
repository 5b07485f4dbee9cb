import { type KV, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { Logger } from '@tabmesh/runtime';

export type BucketWatchOptions = {
  kv: KV;
  name: string;
  /** The revision to (re)start from: one past the last entry processed, so none is lost or repeated. */
  nextRevision: () => number;
  /** Called for every entry, in revision order; must not throw. */
  onEntry: (entry: KvWatchEntry) => void;
  logger: Logger;
  retryMs?: number;
};

/**
 * A watch on a whole bucket that restarts itself from where it stopped if the underlying consumer
 * ends, so one lost consumer never leaves the gateway deaf.
 */
export class BucketWatch {
  private stopped = false;
  private iter: QueuedIterator<KvWatchEntry> | null = null;
  private loop: Promise<void> | null = null;
  private consuming = false;

  constructor(private readonly opts: BucketWatchOptions) {}

  get running(): boolean {
    return this.consuming && !this.stopped;
  }

  /** Resolves once the watch consumes; throws if it cannot be created. */
  async start(): Promise<void> {
    const iter = await this.open();
    this.loop = this.run(iter);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.iter?.stop();
    await this.loop;
  }

  private async open(): Promise<QueuedIterator<KvWatchEntry>> {
    const iter = await this.opts.kv.watch({
      key: '>',
      include: KvWatchInclude.UpdatesOnly,
      resumeFromRevision: this.opts.nextRevision(),
    });
    this.iter = iter;
    this.consuming = true;
    return iter;
  }

  private async run(first: QueuedIterator<KvWatchEntry>): Promise<void> {
    const { logger, name } = this.opts;
    let iter: QueuedIterator<KvWatchEntry> | null = first;
    while (iter) {
      try {
        for await (const entry of iter) this.opts.onEntry(entry);
      } catch (err) {
        logger.warn({ err, bucket: name }, 'kv watch failed');
      }
      this.consuming = false;
      iter = null;
      while (!this.stopped && !iter) {
        logger.warn({ bucket: name, from: this.opts.nextRevision() }, 'kv watch ended; restarting');
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 500));
        if (this.stopped) break;
        try {
          iter = await this.open();
        } catch (err) {
          logger.warn({ err, bucket: name }, 'kv watch restart failed');
        }
      }
    }
  }
}
