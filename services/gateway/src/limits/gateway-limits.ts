import { LimitReachedError } from '@tabmesh/contracts';
import type { Config } from '@tabmesh/runtime';
import type { Principal } from '../access/authenticator.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { SocketSlots } from './socket-slots.js';
import {
  type Bucket,
  type Clock,
  KeyedBuckets,
  monotonicClock,
  newBucket,
  type Rate,
  takeTokens,
} from './token-bucket.js';

/** Bursts a caller may spend at once, as a multiple of its rate per second (DESIGN.md Limits). */
export const BurstFactor = 5;

/**
 * A token's subscribe frames across all its sockets may reach this many sockets' worth: a few
 * browser tabs of one user each get a whole socket's budget, sixty-four sockets do not get 64 times it.
 */
export const FrameBudgetSockets = 4;

/**
 * Retry-After of a refused upgrade. A slot frees only when one of the token's own sockets closes,
 * which the gateway cannot foresee; this paces a client's reconnect loop.
 */
export const SocketRetryAfterSeconds = 5;

/** What a refusal counts under in `tabmesh_gateway_limit_refusals_total`. */
export const LimitKind = {
  /** An HTTP request or WebSocket upgrade over the token's request rate. */
  Requests: 'requests',
  /** An upgrade past GATEWAY_MAX_SOCKETS_PER_TOKEN. */
  Sockets: 'sockets',
  /** A subscribe or unsubscribe frame over its socket's or its token's frame rate. */
  Frames: 'frames',
  /** A subscribe past the socket's subscription cap. */
  Subscriptions: 'subscriptions',
} as const;
export type LimitKind = (typeof LimitKind)[keyof typeof LimitKind];

export type GatewayLimitsOptions = {
  now?: Clock;
  /** Callers each keyed limiter tracks at once (see KeyedBuckets). */
  maxKeys?: number;
};

/**
 * The gateway's per-caller bounds, in one process: request rate, sockets, subscribe frames.
 * Every check refuses before anything is read or written, and counts the refusal by kind.
 */
export class GatewayLimits {
  /** Null when GATEWAY_RATE_LIMIT=0. */
  private readonly requests: KeyedBuckets | null;
  private readonly framesPerToken: KeyedBuckets | null;
  private readonly frameRate: Rate | null;
  private readonly sockets: SocketSlots;
  private readonly now: Clock;

  constructor(
    config: Pick<Config, 'GATEWAY_RATE_LIMIT' | 'GATEWAY_MAX_SOCKETS_PER_TOKEN'>,
    private readonly metrics: GatewayMetrics,
    opts: GatewayLimitsOptions = {},
  ) {
    this.now = opts.now ?? monotonicClock;
    const r = config.GATEWAY_RATE_LIMIT;
    const keyed = { now: this.now, maxKeys: opts.maxKeys };
    this.requests = r > 0 ? new KeyedBuckets({ perSecond: r, burst: r * BurstFactor }, keyed) : null;
    this.frameRate = r > 0 ? { perSecond: r, burst: r * BurstFactor } : null;
    this.framesPerToken =
      r > 0
        ? new KeyedBuckets({ perSecond: r * FrameBudgetSockets, burst: r * BurstFactor * FrameBudgetSockets }, keyed)
        : null;
    this.sockets = new SocketSlots(config.GATEWAY_MAX_SOCKETS_PER_TOKEN);
  }

  /**
   * Whose budget a request spends: the token's `sub`; with auth off every caller is `anonymous`, so
   * the remote address stands in for it.
   */
  static callerKey(principal: Principal, authEnabled: boolean, remoteAddress: string | undefined): string {
    return authEnabled ? principal.sub : `address:${remoteAddress ?? 'unknown'}`;
  }

  /** Spends one request of `key`'s rate; throws LimitReachedError (with the wait) over it. */
  checkRequest(key: string): void {
    const requests = this.requests;
    if (!requests) return;
    const wait = requests.take(key);
    if (wait === 0) return;
    this.metrics.limitRefusals.inc({ kind: LimitKind.Requests });
    const { perSecond, burst } = requests.rate;
    throw new LimitReachedError(
      `rate limit: at most ${perSecond} requests per second per token, bursts of ${burst}; retry in ${wait} s`,
      wait,
    );
  }

  /** Takes a socket slot for `key`; throws LimitReachedError when it holds GATEWAY_MAX_SOCKETS_PER_TOKEN. */
  acquireSocket(key: string): void {
    if (this.sockets.acquire(key)) return;
    this.metrics.limitRefusals.inc({ kind: LimitKind.Sockets });
    throw new LimitReachedError(
      `socket limit: at most ${this.sockets.max} WebSocket connections per token; close one first`,
      SocketRetryAfterSeconds,
    );
  }

  releaseSocket(key: string): void {
    this.sockets.release(key);
  }

  /** Sockets `key` holds now. */
  socketsOf(key: string): number {
    return this.sockets.count(key);
  }

  /** The frame bucket a new socket carries (null when rate limits are off). */
  newSocketBucket(): Bucket | null {
    return this.frameRate ? newBucket(this.frameRate, this.now()) : null;
  }

  /**
   * Spends one frame of the socket's and of its token's budget. Returns the refusal (nothing spent
   * from the token's budget when the socket's own refuses), or null when the frame may be served.
   */
  checkFrame(socketBucket: Bucket | null, key: string): LimitReachedError | null {
    if (!this.frameRate || !socketBucket || !this.framesPerToken) return null;
    let wait = takeTokens(socketBucket, this.frameRate, this.now());
    let scope = `${this.frameRate.perSecond} per second per socket, bursts of ${this.frameRate.burst}`;
    if (wait === 0) {
      wait = this.framesPerToken.take(key);
      const { perSecond, burst } = this.framesPerToken.rate;
      scope = `${perSecond} per second per token, bursts of ${burst}`;
      // A frame refused is not served: the socket gets its token back.
      if (wait !== 0) socketBucket.tokens = Math.min(this.frameRate.burst, socketBucket.tokens + 1);
    }
    if (wait === 0) return null;
    this.metrics.limitRefusals.inc({ kind: LimitKind.Frames });
    return new LimitReachedError(`subscribe rate limit: at most ${scope}; retry in ${wait} s`, wait);
  }
}
