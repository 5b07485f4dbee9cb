import type { JetStreamClient } from '@nats-io/jetstream';
import { encode } from '@tabmesh/contracts';
import type { z } from 'zod';
import { correlationHeaders } from './correlation.js';

/** Publishes a validated job with a dedupe id and the correlation id; returns true if it was new. */
export async function publishJob<S extends z.ZodType>(
  js: JetStreamClient,
  subject: string,
  schema: S,
  job: z.input<S>,
  msgID: string,
  correlationId: string,
): Promise<boolean> {
  const ack = await js.publish(subject, encode(schema, job, `job ${subject}`), {
    msgID,
    headers: correlationHeaders(correlationId),
  });
  return !ack.duplicate;
}
