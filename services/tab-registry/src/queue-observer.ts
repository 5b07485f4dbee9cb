import type { JetStreamManager } from '@nats-io/jetstream';
import {
  provisionSubject,
  Step,
  Streams,
  sessionSubject,
  type TabRecord,
  TabState,
  TaskProvisioning,
} from '@tabmesh/contracts';
import type { Logger, TabFlow } from '@tabmesh/runtime';
import { lastJobSeq } from './job-locator.js';

/** Bounds the reads of one tick when a large backlog waits; the rest are seen on later ticks. */
const MaxPerTick = 100;

/** The tick's share of a long list, moving along each turn so every item is seen in time. */
function rotate<T>(items: T[], turn: number): T[] {
  if (items.length <= MaxPerTick) return items;
  const start = (turn * MaxPerTick) % items.length;
  return [...items.slice(start), ...items.slice(0, start)].slice(0, MaxPerTick);
}

type QueueState = {
  /** Nobody is pulling: no waiting pull request and nothing being worked on, yet work waits. */
  noWorkers: boolean;
  /** Highest stream sequence handed to a worker. */
  deliveredSeq: number;
  firstSeq: number;
  deleted: number[];
};

/**
 * Says honestly why a tab is still pending, from the consumer's own state: "Queued (3 ahead)",
 * "Queued (no provisioner running)". It only writes when the text changes, and only for jobs no
 * worker has picked up yet; once picked up, the worker reports its own steps.
 */
export class QueueObserver {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private turn = 0;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly flow: TabFlow,
    private readonly pendingTabs: () => Iterable<TabRecord>,
    private readonly opts: { intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The consumer's state, or null when every job has been handed to a worker (nothing to say). */
  private async queueState(stream: { name: string; consumer: string }): Promise<QueueState | null> {
    const consumer = await this.jsm.consumers.info(stream.name, stream.consumer);
    if (consumer.num_pending === 0) return null;
    const info = await this.jsm.streams.info(stream.name, { deleted_details: true });
    return {
      noWorkers: consumer.num_waiting === 0 && consumer.num_ack_pending === 0 && consumer.num_pending > 0,
      deliveredSeq: consumer.delivered.stream_seq,
      firstSeq: info.state.first_seq,
      deleted: info.state.deleted ?? [],
    };
  }

  /** The detail for a job at `seq`, or null when a worker already has it. */
  private detail(q: QueueState, seq: number, workerName: string): string | null | undefined {
    if (seq <= q.deliveredSeq) return null;
    if (q.noWorkers) return `no ${workerName} running`;
    const ahead = seq - q.firstSeq - q.deleted.filter((d) => d > q.firstSeq && d < seq).length;
    return ahead > 0 ? `${ahead} ahead` : undefined;
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.turn++;
    try {
      const tabs = [...this.pendingTabs()];
      const waitingTasks = new Map<string, { org: string; task: string }>();
      const waitingSessions = tabs.filter((t) => t.state === TabState.PendingSessionCreate);
      for (const t of tabs) if (t.state === TabState.PendingProvision) waitingTasks.set(`${t.org}.${t.task}`, t);
      const q = waitingTasks.size > 0 ? await this.queueState(Streams.provision) : null;
      if (q) {
        for (const { org, task } of rotate([...waitingTasks.values()], this.turn)) {
          const current = await this.flow.tasks.getTask(org, task);
          if (current?.value.state !== TaskProvisioning.Provisioning || current.value.step !== Step.Queued) continue;
          if (current.value.progress?.includes('retrying')) continue;
          const seq = await lastJobSeq(this.jsm, Streams.provision.name, provisionSubject(org, task)).catch(() => null);
          if (seq === null) continue;
          const detail = this.detail(q, seq, 'provisioner');
          if (detail === null) continue;
          await this.flow.reportProvisionStep({ org, task, generation: current.value.generation }, Step.Queued, detail);
        }
      }
      const qs = waitingSessions.length > 0 ? await this.queueState(Streams.sessions) : null;
      if (qs) {
        for (const tab of rotate(waitingSessions, this.turn)) {
          if (tab.progress?.includes('retrying')) continue;
          const seq = await lastJobSeq(
            this.jsm,
            Streams.sessions.name,
            sessionSubject(tab.org, tab.task, tab.id),
          ).catch(() => null);
          if (seq === null) continue;
          const detail = this.detail(qs, seq, 'session-creator');
          if (detail === null) continue;
          await this.flow.reportSessionProgress(tab, detail);
        }
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'queue observation failed');
    } finally {
      this.running = false;
    }
  }
}
