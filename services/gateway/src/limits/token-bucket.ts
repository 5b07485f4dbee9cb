/** A token bucket's shape: refilled at `perSecond`, holding at most `burst` tokens. */
export type Rate = { readonly perSecond: number; readonly burst: number };

/** One bucket's state; `at` is the clock reading (ms) its tokens were last brought up to date. */
export type Bucket = { tokens: number; at: number };

/** Milliseconds from a monotonic clock; tests pass their own. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();

/** A new bucket is full: a caller never seen (or forgotten) may spend the whole burst. */
export function newBucket(rate: Rate, nowMs: number): Bucket {
  return { tokens: rate.burst, at: nowMs };
}

function refill(bucket: Bucket, rate: Rate, nowMs: number): void {
  // Never backwards, even if an injected clock is.
  const elapsed = Math.max(0, nowMs - bucket.at);
  bucket.tokens = Math.min(rate.burst, bucket.tokens + (elapsed / 1000) * rate.perSecond);
  bucket.at = Math.max(bucket.at, nowMs);
}

/**
 * Takes `cost` tokens if the bucket holds them. Returns 0 when taken; otherwise the whole seconds
 * (at least 1, as `Retry-After` wants) until it will hold them, and takes nothing.
 */
export function takeTokens(bucket: Bucket, rate: Rate, nowMs: number, cost = 1): number {
  refill(bucket, rate, nowMs);
  if (bucket.tokens >= cost) {
    bucket.tokens -= cost;
    return 0;
  }
  return Math.max(1, Math.ceil((cost - bucket.tokens) / rate.perSecond));
}

/** Whether the bucket has refilled to its burst: its state is then the same as a new bucket's. */
export function isFull(bucket: Bucket, rate: Rate, nowMs: number): boolean {
  return bucket.tokens + (Math.max(0, nowMs - bucket.at) / 1000) * rate.perSecond >= rate.burst;
}

export const DefaultMaxKeys = 100_000;

/** Full buckets looked at (oldest first) per take, so forgetting idle callers costs O(1) per request. */
const EvictPerTake = 2;

export type KeyedBucketsOptions = {
  /** Callers tracked at once; past it the least recently seen is forgotten (it gets a full bucket back). */
  maxKeys?: number;
  now?: Clock;
};

/**
 * One token bucket per key (a token's `sub`, or a remote address), in bounded memory. The map is kept
 * in least-recently-used order (a take moves its key to the end), so the idle callers are at the
 * front: each take drops the oldest buckets that have refilled (a full bucket carries no state), and
 * past `maxKeys` the least recently seen goes even if not full. A caller forgotten that way gets a
 * full burst again, which only matters with more than `maxKeys` callers active at once.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: Clock;

  constructor(
    readonly rate: Rate,
    opts: KeyedBucketsOptions = {},
  ) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1))
      throw new RangeError(`token bucket needs perSecond > 0 and burst >= 1, got ${JSON.stringify(rate)}`);
    this.maxKeys = opts.maxKeys ?? DefaultMaxKeys;
    this.now = opts.now ?? monotonicClock;
  }

  /** Takes `cost` tokens from `key`'s bucket: 0 when taken, else whole seconds to wait (nothing taken). */
  take(key: string, cost = 1): number {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) this.buckets.delete(key);
    else bucket = newBucket(this.rate, now);
    this.buckets.set(key, bucket);
    const wait = takeTokens(bucket, this.rate, now, cost);
    this.evict(now, key);
    return wait;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.buckets.size;
  }

  has(key: string): boolean {
    return this.buckets.has(key);
  }

  private evict(now: number, keep: string): void {
    let looked = 0;
    for (const [key, bucket] of this.buckets) {
      if (key === keep) break;
      if (this.buckets.size > this.maxKeys) {
        this.buckets.delete(key);
        continue;
      }
      if (looked++ >= EvictPerTake || !isFull(bucket, this.rate, now)) break;
      this.buckets.delete(key);
    }
  }
}
