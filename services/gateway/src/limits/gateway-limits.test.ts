import { LimitReachedError } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { AnonymousPrincipal, type Principal } from '../access/authenticator.js';
import { createGatewayMetrics } from '../gateway-metrics.js';
import { FrameBudgetSockets, GatewayLimits, LimitKind, SocketRetryAfterSeconds } from './gateway-limits.js';
import { SocketSlots } from './socket-slots.js';

function setUp(rate = 2, sockets = 3) {
  let t = 0;
  const metrics = createGatewayMetrics();
  const limits = new GatewayLimits({ GATEWAY_RATE_LIMIT: rate, GATEWAY_MAX_SOCKETS_PER_TOKEN: sockets }, metrics, {
    now: () => t,
  });
  return {
    limits,
    metrics,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const refusal = (fn: () => void): LimitReachedError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof LimitReachedError) return err;
    throw err;
  }
  throw new Error('not refused');
};

describe('GatewayLimits', () => {
  it('allows bursts of five times the rate per caller, then refuses with 429 and a wait', () => {
    const { limits, metrics, advance } = setUp(2);
    for (let i = 0; i < 10; i++) limits.checkRequest('ana');
    const err = refusal(() => limits.checkRequest('ana'));
    expect(err.httpStatus).toBe(429);
    expect(err.code).toBe('limit_reached');
    expect(err.retryAfterSeconds).toBe(1);
    expect(metrics.limitRefusals.get({ kind: LimitKind.Requests })).toBe(1);
    limits.checkRequest('bob');
    advance(500);
    limits.checkRequest('ana');
  });

  it('lets everything through when GATEWAY_RATE_LIMIT is 0', () => {
    const { limits, metrics } = setUp(0);
    for (let i = 0; i < 10_000; i++) limits.checkRequest('ana');
    const bucket = limits.newSocketBucket();
    expect(bucket).toBeNull();
    for (let i = 0; i < 10_000; i++) expect(limits.checkFrame(bucket, 'ana')).toBeNull();
    expect(metrics.limitRefusals.get({ kind: LimitKind.Requests })).toBe(0);
  });

  it('holds at most the socket cap per caller and frees a slot on release', () => {
    const { limits, metrics } = setUp(2, 3);
    for (let i = 0; i < 3; i++) limits.acquireSocket('ana');
    const err = refusal(() => limits.acquireSocket('ana'));
    expect(err.retryAfterSeconds).toBe(SocketRetryAfterSeconds);
    expect(limits.socketsOf('ana')).toBe(3);
    limits.acquireSocket('bob');
    limits.releaseSocket('ana');
    limits.acquireSocket('ana');
    expect(metrics.limitRefusals.get({ kind: LimitKind.Sockets })).toBe(1);
  });

  it('limits frames per socket, and per caller across its sockets', () => {
    const { limits, metrics } = setUp(2);
    const one = limits.newSocketBucket();
    for (let i = 0; i < 10; i++) expect(limits.checkFrame(one, 'ana')).toBeNull();
    expect(limits.checkFrame(one, 'ana')?.message).toMatch(/per socket/);
    // Fresh sockets of the same caller share its budget: four sockets' worth, then refused.
    let served = 10;
    const sockets = Array.from({ length: 8 }, () => limits.newSocketBucket());
    for (const s of sockets) for (let i = 0; i < 10; i++) if (limits.checkFrame(s, 'ana') === null) served++;
    expect(served).toBe(10 * FrameBudgetSockets);
    const refused = limits.checkFrame(sockets[7]!, 'ana');
    expect(refused?.message).toMatch(/per token/);
    expect(refused?.retryAfterSeconds).toBe(1);
    expect(metrics.limitRefusals.get({ kind: LimitKind.Frames })).toBe(1 + 8 * 10 - 30 + 1);
    // Refusals by the token's budget gave the socket its tokens back.
    expect(sockets[7]!.tokens).toBe(10);
    // Another caller is not touched.
    expect(limits.checkFrame(limits.newSocketBucket(), 'bob')).toBeNull();
  });

  it('keys by sub, or by remote address when auth is off (every caller is then anonymous)', () => {
    const p: Principal = { sub: 'ana', orgs: ['*'], exp: null } as Principal;
    expect(GatewayLimits.callerKey(p, true, '10.0.0.1')).toBe('ana');
    expect(GatewayLimits.callerKey(AnonymousPrincipal, false, '10.0.0.1')).toBe('address:10.0.0.1');
    expect(GatewayLimits.callerKey(AnonymousPrincipal, false, '10.0.0.2')).not.toBe(
      GatewayLimits.callerKey(AnonymousPrincipal, false, '10.0.0.1'),
    );
  });
});

describe('SocketSlots', () => {
  it('forgets a caller once it holds no socket', () => {
    const slots = new SocketSlots(2);
    expect(slots.acquire('a')).toBe(true);
    expect(slots.acquire('a')).toBe(true);
    expect(slots.acquire('a')).toBe(false);
    slots.release('a');
    slots.release('a');
    expect(slots.keys).toBe(0);
    slots.release('a'); // a stray release never goes negative
    expect(slots.count('a')).toBe(0);
  });
});
