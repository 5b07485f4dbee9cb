import type { KV } from '@nats-io/kv';
import { TaskProvisioning, type TaskRecord, TaskRecordSchema } from '@tabmesh/contracts';
import type { Logger } from './logger.js';
import { RecentMap } from './recent-map.js';
import { watchRecords } from './record-watch.js';

/** Tasks of any state remembered from the watch, newest write last; the oldest go first. */
const RecentTasks = 4096;

/**
 * The provisioned tasks of the deployment (those holding a sandbox), kept from one watch of the
 * `tasks` bucket: what the liveness watch probes and the idle reaper looks at, without reading every
 * task on every tick. Memory follows the live sandboxes, not the tasks ever seen; of the others only
 * the last RecentTasks written are kept, for `seen`.
 */
export class ProvisionedTasks {
  readonly byKey = new Map<string, TaskRecord>();
  private readonly recent: RecentMap<string, TaskRecord>;
  private stopWatch: (() => void) | null = null;

  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
    recentMax = RecentTasks,
  ) {
    this.recent = new RecentMap(recentMax);
  }

  async start(): Promise<void> {
    this.stopWatch = await watchRecords(this.kv, TaskRecordSchema, this.logger, (key, task) => {
      this.byKey.delete(key);
      this.recent.delete(key);
      if (!task) return;
      if (task.state === TaskProvisioning.Provisioned && task.sandbox) {
        this.byKey.set(key, task);
        return;
      }
      this.recent.set(key, task);
    });
  }

  /**
   * The task as the watch last saw it, or undefined when it has not seen it lately (a new task, or
   * one not written for a long while). A few milliseconds behind at most: good for what a new tab
   * starts from, which the tab's own compare-and-set path re-checks; never for a decision that only
   * a fresh read may make.
   */
  seen(key: string): TaskRecord | undefined {
    return this.byKey.get(key) ?? this.recent.get(key);
  }

  stop(): void {
    this.stopWatch?.();
  }
}
