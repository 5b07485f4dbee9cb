/** nats-server could not be found or did not come up; starting again the same way will not help. */
export class NatsLaunchError extends Error {
  readonly code = 'nats_launch_failed';
  readonly retryable = false;
  override readonly name = 'NatsLaunchError';
}
