import { describe, expect, it } from 'vitest';
import { isFull, KeyedBuckets, newBucket, type Rate, takeTokens } from './token-bucket.js';

const rate: Rate = { perSecond: 10, burst: 50 };

/** A clock the test moves by hand. */
function manualClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('token bucket', () => {
  it('lets a full burst through at once, then refuses with whole seconds to wait', () => {
    const b = newBucket(rate, 0);
    for (let i = 0; i < 50; i++) expect(takeTokens(b, rate, 0)).toBe(0);
    expect(takeTokens(b, rate, 0)).toBe(1);
    // 5 tokens short at 10/s: half a second, rounded up to the whole second Retry-After needs.
    expect(takeTokens(b, rate, 0, 5)).toBe(1);
    expect(takeTokens(b, rate, 0, 25)).toBe(3);
    expect(b.tokens).toBe(0); // a refusal takes nothing
  });

  it('refills at the rate, never past the burst', () => {
    const b = newBucket(rate, 0);
    for (let i = 0; i < 50; i++) takeTokens(b, rate, 0);
    expect(takeTokens(b, rate, 99)).toBe(1); // 0.99 tokens after 99 ms
    expect(takeTokens(b, rate, 100)).toBe(0); // one token after 100 ms
    expect(takeTokens(b, rate, 100)).toBe(1);
    expect(isFull(b, rate, 5_099)).toBe(false);
    expect(isFull(b, rate, 5_100)).toBe(true);
    // An hour idle still gives only the burst.
    let passed = 0;
    while (takeTokens(b, rate, 3_600_000) === 0) passed++;
    expect(passed).toBe(50);
  });

  it('sustains exactly the rate under a steady flood', () => {
    const b = newBucket(rate, 0);
    let passed = 0;
    // 1000 attempts per second for 10 s: the burst plus 10 per second.
    for (let ms = 0; ms < 10_000; ms++) if (takeTokens(b, rate, ms) === 0) passed++;
    expect(passed).toBe(50 + 99);
  });

  it('ignores a clock that goes backwards', () => {
    const b = newBucket(rate, 10_000);
    for (let i = 0; i < 50; i++) takeTokens(b, rate, 10_000);
    expect(takeTokens(b, rate, 0)).toBe(1);
    expect(takeTokens(b, rate, 10_100)).toBe(0);
  });
});

describe('KeyedBuckets', () => {
  it('keeps one bucket per key: one caller over its rate does not slow another', () => {
    const clock = manualClock();
    const buckets = new KeyedBuckets({ perSecond: 1, burst: 5 }, { now: clock.now });
    for (let i = 0; i < 5; i++) expect(buckets.take('ana')).toBe(0);
    expect(buckets.take('ana')).toBe(1);
    for (let i = 0; i < 5; i++) expect(buckets.take('bob')).toBe(0);
    clock.advance(1000);
    expect(buckets.take('ana')).toBe(0);
    expect(buckets.take('ana')).toBe(1);
  });

  it('forgets buckets that have refilled, oldest first, so idle callers cost no memory', () => {
    const clock = manualClock();
    const buckets = new KeyedBuckets({ perSecond: 1, burst: 5 }, { now: clock.now });
    for (let i = 0; i < 10; i++) buckets.take(`idle-${i}`);
    expect(buckets.size).toBe(10);
    clock.advance(999); // 4 + 0.999 tokens: not yet full
    buckets.take('active');
    expect(buckets.size).toBe(11);
    clock.advance(1);
    // Each take drops a few of the full ones; enough takes drop them all, and keep the active key.
    for (let i = 0; i < 10; i++) buckets.take('active');
    expect(buckets.size).toBe(1);
    expect(buckets.has('active')).toBe(true);
  });

  it('keeps a refused caller remembered while it is still short of tokens', () => {
    const clock = manualClock();
    const buckets = new KeyedBuckets({ perSecond: 1, burst: 5 }, { now: clock.now });
    for (let i = 0; i < 6; i++) buckets.take('flooder');
    for (let i = 0; i < 20; i++) buckets.take(`other-${i}`);
    expect(buckets.has('flooder')).toBe(true);
    expect(buckets.take('flooder')).toBe(1);
  });

  it('tracks at most maxKeys callers, dropping the least recently seen', () => {
    const clock = manualClock();
    const buckets = new KeyedBuckets({ perSecond: 1, burst: 5 }, { now: clock.now, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) {
      buckets.take('kept');
      buckets.take(`caller-${i}`);
      expect(buckets.size).toBeLessThanOrEqual(100);
    }
    expect(buckets.has('caller-999')).toBe(true);
    expect(buckets.has('caller-0')).toBe(false);
    // Used on every round, the busy key stayed at the recent end and kept its (empty) bucket.
    expect(buckets.has('kept')).toBe(true);
    expect(buckets.take('kept')).toBe(1);
  });

  it('refuses a shape that could never let anything through', () => {
    expect(() => new KeyedBuckets({ perSecond: 0, burst: 5 })).toThrow(RangeError);
    expect(() => new KeyedBuckets({ perSecond: 1, burst: 0.5 })).toThrow(RangeError);
  });
});
