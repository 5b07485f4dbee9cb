import type { JetStreamManager } from '@nats-io/jetstream';
import { provisionSubject, Streams, sessionSubject, type TabRecord, TabState } from '@tabmesh/contracts';

/** The stream sequence of the last job on `subject`, or null when the work queue holds none; a failed read throws. */
export async function lastJobSeq(jsm: JetStreamManager, stream: string, subject: string): Promise<number | null> {
  const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  return msg?.seq ?? null;
}

/**
 * Where the job a pending tab waits on is, from the work queue's own state: `queued` (in the stream,
 * not yet handed to a worker), `handed-out` (a worker has it, or had it and it awaits redelivery),
 * `absent` (no job for it in the stream: acknowledged, or never published).
 */
export type JobWhereabouts = 'queued' | 'handed-out' | 'absent';

/**
 * Looks jobs up for one pass over the pending tabs: each queue's consumer state is read once per
 * pass, and each job subject once (the pending tabs of one task share their provision job).
 */
export class JobLocator {
  private readonly delivered = new Map<string, Promise<number>>();
  private readonly lastSeqs = new Map<string, Promise<number | null>>();

  constructor(private readonly jsm: JetStreamManager) {}

  async whereIs(tab: TabRecord): Promise<JobWhereabouts | null> {
    const queue =
      tab.state === TabState.PendingProvision
        ? { stream: Streams.provision, subject: provisionSubject(tab.org, tab.task) }
        : tab.state === TabState.PendingSessionCreate
          ? { stream: Streams.sessions, subject: sessionSubject(tab.org, tab.task, tab.id) }
          : null;
    if (!queue) return null;
    return this.whereIsLast(queue.stream, queue.subject);
  }

  /**
   * Where the newest session job of the tab's task is (any subject of the task): a task's tabs that
   * a provisioning handed over share one job, on the subject of the first of them, so a tab's own
   * subject does not say whether its session work is still queued.
   */
  taskSessionWork(tab: TabRecord): Promise<JobWhereabouts> {
    return this.whereIsLast(Streams.sessions, sessionSubject(tab.org, tab.task, '*'));
  }

  /** Where the last job on `subject` (a wildcard takes the newest of its subjects) is, each subject read once. */
  private async whereIsLast(stream: { name: string; consumer: string }, subject: string): Promise<JobWhereabouts> {
    let last = this.lastSeqs.get(subject);
    if (!last) {
      last = lastJobSeq(this.jsm, stream.name, subject);
      this.lastSeqs.set(subject, last);
    }
    const seq = await last;
    if (seq === null) return 'absent';
    return seq > (await this.deliveredSeq(stream)) ? 'queued' : 'handed-out';
  }

  private deliveredSeq(stream: { name: string; consumer: string }): Promise<number> {
    let seq = this.delivered.get(stream.name);
    if (!seq) {
      seq = this.jsm.consumers.info(stream.name, stream.consumer).then((c) => c.delivered.stream_seq);
      this.delivered.set(stream.name, seq);
    }
    return seq;
  }
}
