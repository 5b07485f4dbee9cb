import { type KV, KvWatchInclude } from '@nats-io/kv';
import { TaskProvisioning, type TaskRecord, TaskRecordSchema } from '@tabmesh/contracts';
import type { Logger } from './logger.js';

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
    const watch = await this.kv.watch({ key: '>', include: KvWatchInclude.LastValue });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        this.byKey.delete(e.key);
        if (e.operation !== 'PUT') continue;
        let parsed: ReturnType<typeof TaskRecordSchema.safeParse> | null;
        try {
          parsed = TaskRecordSchema.safeParse(e.json());
        } catch {
          parsed = null;
        }
        if (!parsed?.success) {
          this.logger.warn({ key: e.key }, 'task value does not match its schema; ignored');
          continue;
        }
        if (parsed.data.state === TaskProvisioning.Provisioned && parsed.data.sandbox)
          this.byKey.set(e.key, parsed.data);
      }
    })();
  }

  stop(): void {
    this.stopWatch?.();
  }
}
