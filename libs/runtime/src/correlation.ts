import { randomUUID } from 'node:crypto';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import { Headers } from '@tabmesh/contracts';

export const newCorrelationId = (): string => randomUUID();

export function correlationHeaders(correlationId: string): MsgHdrs {
  const h = natsHeaders();
  h.set(Headers.correlationId, correlationId);
  return h;
}

/** The correlation id carried by a message, or a new one when the sender set none. */
export function correlationOf(h: MsgHdrs | undefined): string {
  return h?.get(Headers.correlationId) || newCorrelationId();
}
