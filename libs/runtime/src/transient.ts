import { jserrors, JetStreamApiError } from '@nats-io/jetstream/internal';
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';

/**
 * Whether an error says the bus is briefly unavailable (a reconnect, a JetStream leader election
 * in a cluster) rather than that the job failed. Such errors must not use up a job's retries.
 */
export function isTransientBusError(err: unknown): boolean {
  if (
    err instanceof TimeoutError ||
    err instanceof NoRespondersError ||
    err instanceof RequestError ||
    err instanceof ConnectionError ||
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError ||
    err instanceof jserrors.JetStreamNotEnabled
  ) {
    return true;
  }
  return err instanceof JetStreamApiError && err.status === 503;
}
