import type { KV } from '@nats-io/kv';
import { TaskProvisioning, type TaskRecord, TaskRecordSchema } from '@tabmesh/contracts';
import type { Logger } from './logger.js';
import { watchRecords } from './record-watch.js';

/**
 * The provisioned tasks of the deployment (those holding a sandbox), kept from one watch of the
 * `tasks` bucket: what the liveness watch probes and the idle reaper looks at, without reading every
 * task on every tick. Memory follows the live sandboxes, not the tasks ever seen.
 */
export class ProvisionedTasks {
  readonly byKey = new Map<string, TaskRecord>();
  private stopWatch: (() => void) | null = null;

  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopWatch = await watchRecords(this.kv, TaskRecordSchema, this.logger, (key, task) => {
      this.byKey.delete(key);
      if (task?.state === TaskProvisioning.Provisioned && task.sandbox) this.byKey.set(key, task);
    });
  }

  stop(): void {
    this.stopWatch?.();
  }
}
