import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay } from './backoff.js';

const opts = { baseMs: 100, maxMs: 2_000 };

describe('backoff', () => {
  it('doubles the ceiling per attempt up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffCeiling(n, opts))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(backoffCeiling(10_000, opts)).toBe(2_000);
  });

  it('keeps every delay within [ceiling/2, ceiling]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = backoffCeiling(attempt, opts);
      for (const r of [0, 0.25, 0.5, 0.999, 1]) {
        const d = backoffDelay(attempt, opts, () => r);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('spreads delays with the random source and clamps a bad one', () => {
    expect(backoffDelay(2, opts, () => 0)).toBe(200);
    expect(backoffDelay(2, opts, () => 1)).toBe(400);
    expect(backoffDelay(2, opts, () => 7)).toBe(400);
    expect(backoffDelay(2, opts, () => -1)).toBe(200);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
    expect(delays.size).toBeGreaterThan(1);
  });
});
