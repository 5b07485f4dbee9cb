/** How a dropped connection waits before its next attempt. */
export type BackoffOptions = {
  /** Ceiling of the first delay. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
};

export const DefaultBackoff: BackoffOptions = { baseMs: 250, maxMs: 10_000 };

/** The ceiling for attempt `n` (0-based): `baseMs * 2^n`, capped at `maxMs`. */
export function backoffCeiling(attempt: number, opts: BackoffOptions): number {
  // Math.min before the power would overflow for large attempts; 2^31 is already far past any cap.
  return Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 31));
}

/**
 * "Equal jitter": half the ceiling is fixed and half random, so a delay lies in
 * `[ceiling/2, ceiling]`. Clients that lost the same gateway spread out instead of returning
 * together, and no client retries faster than half the schedule.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, opts);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + r * (ceiling / 2));
}
