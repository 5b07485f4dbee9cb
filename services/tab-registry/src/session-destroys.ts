import { type TabRecord, taskKey } from '@tabmesh/contracts';
import type { TabFlow } from '@tabmesh/runtime';

type Batch = { tabs: TabRecord[]; correlationId: string; done: Promise<void>; settle: (err?: unknown) => void };

/**
 * The destroy jobs of closed tabs' sessions: the closes of one task that arrive in the same turn of
 * the event loop (a task's tabs closed together, a page closing all of them) share one job. Each
 * close still waits for that job to be stored before it replies, as it waited for its own.
 */
export class SessionDestroys {
  private readonly waiting = new Map<string, Batch>();
  private scheduled = false;

  constructor(private readonly flow: TabFlow) {}

  /** Resolves once a job that destroys the tab's session is stored. */
  destroy(tab: TabRecord, correlationId: string): Promise<void> {
    const key = taskKey(tab.org, tab.task);
    let batch = this.waiting.get(key);
    if (!batch) {
      batch = newBatch(correlationId);
      this.waiting.set(key, batch);
    }
    // The same tab twice in one turn (a retried close): its session is in the job once.
    if (!batch.tabs.some((t) => t.id === tab.id)) batch.tabs.push(tab);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return batch.done;
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.waiting.values()];
    this.waiting.clear();
    for (const b of batches) {
      // The job carries the first close's correlation id; the others log theirs with their close.
      this.flow.enqueueSessionDestroys(b.tabs, b.correlationId).then(
        () => b.settle(),
        (err: unknown) => b.settle(err ?? new Error('session destroy job not stored')),
      );
    }
  }
}

function newBatch(correlationId: string): Batch {
  let settle: Batch['settle'] = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  return { tabs: [], correlationId, done, settle };
}
