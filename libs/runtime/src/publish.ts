import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { encode, UnavailableError } from '@tabmesh/contracts';
import type { z } from 'zod';
import { correlationHeaders } from './correlation.js';

/** JetStream's "maximum messages/bytes exceeded": a stream with discard `new` at its bound. */
const StreamStoreFailed = 10077;

export const isStoreFull = (err: unknown): boolean =>
  err instanceof JetStreamApiError && err.code === StreamStoreFailed;

/**
 * A work queue at its bound refused a job. Retryable: the queue drains as workers take jobs. The
 * publisher says so to its caller instead of the job being dropped (the streams discard `new`).
 */
export class QueueFullError extends UnavailableError {
  override name = 'QueueFullError';
  constructor(subject: string, cause: unknown) {
    super(`the work queue for ${subject.split('.')[0]} is full; retry later`, cause);
  }
}

/** Publishes a validated job with a dedupe id and the correlation id; returns true if it was new. */
export async function publishJob<S extends z.ZodType>(
  js: JetStreamClient,
  subject: string,
  schema: S,
  job: z.input<S>,
  msgID: string,
  correlationId: string,
): Promise<boolean> {
  try {
    const ack = await js.publish(subject, encode(schema, job, `job ${subject}`), {
      msgID,
      headers: correlationHeaders(correlationId),
    });
    return !ack.duplicate;
  } catch (err) {
    if (isStoreFull(err)) throw new QueueFullError(subject, err);
    throw err;
  }
}
