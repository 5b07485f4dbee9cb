import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { decode } from '@tabmesh/contracts';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { correlationOf } from './correlation.js';
import { isBusOutage, isRetryable } from './error-table.js';
import { jobLogger } from './logger.js';
import { Semaphore } from './semaphore.js';

/**
 * Ends a job for good. An ack, not a term: nats-server 2.9 keeps terminated messages of a
 * work-queue stream as pending forever, while an ack removes them.
 */
/** Delay of a nak from a stopping worker (see `run`). */
const HandBackDelayMs = 500;

function finish(msg: JsMsg): void {
  msg.ack();
}

export type JobContext<T> = {
  job: T;
  correlationId: string;
  /** 1 on first delivery. */
  delivery: number;
  /** Deliveries this job may use before it is failed for good. */
  maxDeliver: number;
  logger: Logger;
  /** Aborted when the worker stops and gives up on this job. */
  signal: AbortSignal;
  /**
   * Runs `wait` without holding one of the worker's concurrency slots, heartbeats going: for a job
   * that waits on something other jobs free (a sandbox slot freed by a teardown job of the same
   * stream), so waiting jobs cannot take every slot and starve the jobs they wait for. A stopping
   * worker hands a parked job back at once instead of waiting out its drain timeout.
   */
  park: <T>(wait: () => Promise<T>) => Promise<T>;
};

export type FailureInfo = { error: unknown; final: boolean; retryInMs: number | null };

export type WorkerOptions<S extends z.ZodType> = {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  schema: S;
  concurrency: number;
  ackWaitMs: number;
  maxDeliver: number;
  retryBaseMs: number;
  drainTimeoutMs: number;
  logger: Logger;
  handle: (ctx: JobContext<z.infer<S>>) => Promise<void>;
  /** Records a failed attempt: progress for a retry, the terminal error when `final`. */
  onFailure: (ctx: JobContext<z.infer<S>>, failure: FailureInfo) => Promise<void>;
  /** Extra ids for the job's logger. */
  logIds?: (job: z.infer<S>) => Record<string, unknown>;
  /** Told, on a job's first delivery, how long it waited in the stream (seconds). */
  onQueueWait?: (seconds: number) => void;
};

/** `retried`: failed, will run again; `failed`: failed for good. */
export type WorkerStats = {
  inFlight: number;
  started: number;
  succeeded: number;
  retried: number;
  failed: number;
  poison: number;
};

/**
 * A pull consumer loop with bounded concurrency, heartbeats for long jobs, retries with
 * exponential backoff, a terminal failure on the last delivery, and a graceful stop.
 */
export class JobWorker<S extends z.ZodType> {
  private readonly slots: Semaphore;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private batch: ConsumerMessages | null = null;
  private readonly inFlight = new Map<JsMsg, AbortController>();
  private readonly parked = new Set<JsMsg>();
  readonly stats: WorkerStats = { inFlight: 0, started: 0, succeeded: 0, retried: 0, failed: 0, poison: 0 };

  constructor(private readonly opts: WorkerOptions<S>) {
    this.slots = new Semaphore(opts.concurrency);
  }

  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const { js, stream, consumer, logger } = this.opts;
    let c: Consumer | null = null;
    while (!this.stopping) {
      try {
        await this.slots.acquire();
        this.slots.release();
        if (this.stopping) break;
        // Looked up once and again only after an error (e.g. the consumer was recreated).
        c ??= await js.consumers.get(stream, consumer);
        if (this.stopping) break;
        const batch = await c.fetch({ max_messages: this.slots.free, expires: 2000 });
        this.batch = batch;
        // stop() began during the fetch call: end the pull. Not awaited: close() settles only once
        // the loop below has drained the batch (handing back what it still delivers).
        if (this.stopping) void batch.close().catch(() => undefined);
        for await (const msg of batch) {
          if (this.stopping) {
            // Hand it back so another worker takes it without waiting for the ack wait. The delay
            // keeps it from bouncing straight back into this pull request until its deliveries run out.
            msg.nak(HandBackDelayMs);
            continue;
          }
          await this.slots.acquire();
          if (this.stopping) {
            // stop() began while this message waited for a slot: it is not in flight, so hand it back.
            this.slots.release();
            msg.nak(HandBackDelayMs);
            continue;
          }
          void this.process(msg).finally(() => this.slots.release());
        }
      } catch (err) {
        if (this.stopping) break;
        c = null;
        logger.warn({ err }, 'fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const { schema, logger, maxDeliver } = this.opts;
    const correlationId = correlationOf(msg.headers);
    let job: z.infer<S>;
    try {
      job = decode(schema, msg.data, `${this.opts.stream} job`);
    } catch (err) {
      this.stats.poison++;
      logger.error({ err, subject: msg.subject, correlationId, seq: msg.seq }, 'poison job terminated');
      finish(msg);
      return;
    }
    // The first delivery only: later ones waited out a retry backoff, not the queue.
    if (msg.info.deliveryCount === 1) this.opts.onQueueWait?.((Date.now() - msg.info.timestampNanos / 1e6) / 1000);
    const abort = new AbortController();
    this.inFlight.set(msg, abort);
    this.stats.inFlight = this.inFlight.size;
    this.stats.started++;
    const ctx: JobContext<z.infer<S>> = {
      job,
      correlationId,
      delivery: msg.info.deliveryCount,
      maxDeliver,
      logger: jobLogger(logger, {
        correlationId,
        ...(this.opts.logIds?.(job) ?? {}),
        delivery: msg.info.deliveryCount,
      }),
      signal: abort.signal,
      park: (wait) => this.park(msg, wait),
    };
    const heartbeat = setInterval(() => msg.working(), Math.max(250, Math.floor(this.opts.ackWaitMs / 3)));
    try {
      await this.runRidingOutBusOutages(ctx);
      if (!abort.signal.aborted) msg.ack();
      this.stats.succeeded++;
    } catch (error) {
      if (abort.signal.aborted) return; // the stop path already handed it back
      await this.fail(msg, ctx, error);
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(msg);
      this.stats.inFlight = this.inFlight.size;
    }
  }

  private async park<T>(msg: JsMsg, wait: () => Promise<T>): Promise<T> {
    this.parked.add(msg);
    this.slots.release();
    try {
      return await wait();
    } finally {
      this.parked.delete(msg);
      // Taken back before the handler goes on: process() releases one slot when the job ends.
      await this.slots.acquire();
    }
  }

  /**
   * Runs the handler; while the bus is briefly unavailable (reconnect, cluster leader election) it
   * runs it again in the same delivery, heartbeats going, instead of spending one of the job's
   * retries on an outage. Handlers are idempotent, so a second run is safe.
   */
  private async runRidingOutBusOutages(ctx: JobContext<z.infer<S>>): Promise<void> {
    const giveUpAt = Date.now() + Math.max(30_000, 2 * this.opts.ackWaitMs);
    for (let wait = 250; ; wait = Math.min(wait * 2, 4000)) {
      try {
        await this.opts.handle(ctx);
        return;
      } catch (error) {
        if (!isBusOutage(error) || this.stopping || ctx.signal.aborted || Date.now() + wait > giveUpAt) throw error;
        ctx.logger.warn({ err: error, retryInMs: wait }, 'bus unavailable; running the job again');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async fail(msg: JsMsg, ctx: JobContext<z.infer<S>>, error: unknown): Promise<void> {
    const retryable = isRetryable(error);
    const final = !retryable || ctx.delivery >= ctx.maxDeliver;
    const retryInMs = final ? null : this.opts.retryBaseMs * 2 ** (ctx.delivery - 1);
    this.stats[final ? 'failed' : 'retried']++;
    ctx.logger.warn({ err: error, final, retryInMs }, final ? 'job failed for good' : 'job failed; will retry');
    try {
      await this.opts.onFailure(ctx, { error, final, retryInMs });
    } catch (err) {
      // Could not record the failure (e.g. NATS is down): let JetStream redeliver and record it then.
      ctx.logger.error({ err }, 'recording the failure failed; job will be redelivered');
      msg.nak(this.opts.retryBaseMs);
      return;
    }
    if (retryInMs === null) finish(msg);
    else msg.nak(retryInMs);
  }

  /**
   * Stops pulling, waits for in-flight jobs up to the drain timeout, then naks what is left so
   * another worker picks it up at once rather than after the ack wait.
   */
  async stop(): Promise<{ finished: number; handedBack: number }> {
    this.stopping = true;
    // End the open pull request now: the server stops sending to it, so nothing new arrives here.
    void this.batch?.close().catch(() => undefined);
    const before = this.inFlight.size;
    let handedBack = 0;
    for (const msg of this.parked) {
      this.inFlight.get(msg)?.abort();
      msg.nak(HandBackDelayMs);
      handedBack++;
    }
    const deadline = Date.now() + this.opts.drainTimeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const [msg, abort] of this.inFlight) {
      if (abort.signal.aborted) continue; // a parked job, handed back above
      abort.abort();
      msg.nak();
      handedBack++;
    }
    await this.loop;
    return { finished: before - handedBack, handedBack };
  }
}
