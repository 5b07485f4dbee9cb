import { JetStreamApiCodes, JetStreamApiError, JetStreamError, jserrors } from '@nats-io/jetstream/internal';
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { type ErrorCode, type ErrorInfo, TabmeshError, ValidationError } from '@tabmesh/contracts';

/**
 * The one place where errors are classified: one predicate per question a caller asks, so the gateway,
 * the workers, the KV stores and the providers answer it the same way. The classes themselves live in
 * libs/contracts (errors.ts); this file knows the NATS client's classes too, hence libs/runtime.
 */

/** JetStream API codes the client library has no name for. */
const StreamSubjectOverlap = 10065;
const StreamNameInUse = 10058;
const ConsumerNameExists = 10013;
const ConsumerAlreadyExists = 10148;

const apiCodeIs = (err: unknown, ...codes: number[]): boolean =>
  err instanceof JetStreamApiError && codes.includes(err.code);

/** Client-side classes that mean "no answer from the bus right now", not "the request was wrong". */
const outageClasses = [
  TimeoutError,
  NoRespondersError,
  RequestError,
  ConnectionError,
  ClosedConnectionError,
  DrainingConnectionError,
  // No JetStream answering: a leader election in a cluster, or a server still starting.
  jserrors.JetStreamNotEnabled,
  // Consumer heartbeats missed and JetStream status replies (e.g. 503 to a pull) from a consumer.
  JetStreamError,
];

/**
 * The bus is briefly unavailable (a reconnect, a JetStream leader election): retry shortly. Such an
 * error is nobody's fault; a worker must not spend a job's retries on it, and HTTP answers 503.
 */
export function isBusOutage(err: unknown): boolean {
  if (outageClasses.some((cls) => err instanceof cls)) return true;
  return err instanceof JetStreamApiError && err.status === 503;
}

/** A compare-and-set lost: the key moved past the expected revision (or, for a create, exists). */
export function isWrongLastSequence(err: unknown): boolean {
  return apiCodeIs(err, JetStreamApiCodes.StreamWrongLastSequence, JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/** Creating a stream that exists already (with another configuration): update it instead. */
export function isStreamNameInUse(err: unknown): boolean {
  return apiCodeIs(err, StreamNameInUse);
}

/**
 * A stream create that raced another process creating the same stream: nats-server 2.9 may report
 * the twin's subjects as an overlap while it is being made. Binding again a moment later succeeds.
 */
export function isSubjectOverlap(err: unknown): boolean {
  return apiCodeIs(err, StreamSubjectOverlap);
}

/** A stream (or a KV bucket's stream) that does not exist (yet): the bus is not set up. */
export function isStreamNotFound(err: unknown): boolean {
  return apiCodeIs(err, JetStreamApiCodes.StreamNotFound);
}

/** Creating a durable consumer that exists already (with another configuration): update it instead. */
export function isConsumerExists(err: unknown): boolean {
  return apiCodeIs(err, ConsumerAlreadyExists, ConsumerNameExists);
}

/** A typed error with this code (a provider's `sandbox_gone`, a `not_found` reply, …). */
export function hasErrorCode(err: unknown, code: ErrorCode): err is TabmeshError {
  return err instanceof TabmeshError && err.code === code;
}

/**
 * Whether a failed job may run again: not for bad input or a typed error that says so; yes for
 * anything else, since an untyped failure (a bug, a dropped connection) may well pass next time.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ValidationError) return false;
  return err instanceof TabmeshError ? err.retryable : true;
}

/**
 * The error as data, for a tab, a task or a reply: a typed error keeps its code, message and
 * retryability; anything else becomes `fallback`, retryable, with its message.
 */
export function errorInfoOf(err: unknown, fallback: ErrorCode): ErrorInfo {
  if (err instanceof TabmeshError) return err.toInfo();
  return { code: fallback, message: err instanceof Error ? err.message : String(err), retryable: true };
}
