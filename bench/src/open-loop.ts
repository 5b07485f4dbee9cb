import { type Summary, summarize } from './stats.js';

export type OpenLoopResult = {
  rate: number;
  durationMs: number;
  sent: number;
  ok: number;
  errors: number;
  /** First few error descriptions, for the log. */
  errorSamples: string[];
  /** Achieved send rate: requests started per second of the schedule. */
  achievedRate: number;
  latency: Summary;
  /** CPU milliseconds each process spent per request during the run (user + system). */
  cpuMsPerRequest?: Record<string, number>;
};

export type OpenLoopOptions = {
  rate: number;
  durationMs: number;
  /** One request, given its index and scheduled time (performance.now() timeline); resolves true on success. Thrown errors count as errors. */
  fire: (i: number, scheduledAt: number) => Promise<boolean>;
};

/**
 * Sends at a fixed rate whatever the replies do (open loop) and measures each request from the time
 * it was scheduled, not from when it was actually sent: a stalled server or a late timer shows up
 * as latency instead of silently lowering the rate (coordinated omission).
 */
export async function runOpenLoop({ rate, durationMs, fire }: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const intervalMs = 1000 / rate;
  const latencies = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  let next = 0;
  let sendEnd = 0;
  const start = performance.now();
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));

  const settle = (i: number, scheduled: number, success: boolean, err?: unknown) => {
    latencies[i] = performance.now() - scheduled;
    if (success) ok++;
    else {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? err.message : String(err ?? 'failed'));
    }
    if (++done === total) finished();
  };

  await new Promise<void>((resolveSending) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        const i = next++;
        const scheduled = start + i * intervalMs;
        fire(i, scheduled).then(
          (success) => settle(i, scheduled, success),
          (err: unknown) => settle(i, scheduled, false, err),
        );
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, start + next * intervalMs - performance.now())));
      else {
        sendEnd = performance.now();
        resolveSending();
      }
    };
    tick();
  });
  await allDone;
  const latency = summarize(latencies);
  return {
    rate,
    durationMs,
    sent: total,
    ok,
    errors,
    errorSamples,
    achievedRate: Math.round((total / ((sendEnd - start + intervalMs) / 1000)) * 10) / 10,
    latency,
  };
}

/** Runs `fire` one at a time `n` times (after `warmup` unmeasured ones): an unloaded round trip. */
export async function runSequential(n: number, warmup: number, fire: () => Promise<void>): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fire();
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fire();
    out[i] = performance.now() - t;
  }
  return summarize(out);
}
