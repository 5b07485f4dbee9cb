/** Percentiles of a set of latencies in milliseconds. */
export type Summary = { n: number; p50: number; p90: number; p99: number; max: number; mean: number };

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Nearest-rank percentiles; an empty set gives NaN everywhere so it can never pass a target. */
export function summarize(samples: ArrayLike<number>): Summary {
  const n = samples.length;
  if (n === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    n,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted[n - 1]!),
    mean: round(sum / n),
  };
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
