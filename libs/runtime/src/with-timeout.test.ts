import { describe, expect, it } from 'vitest';
import { withTimeout } from './with-timeout.js';

const never = () => new Promise<never>(() => undefined);

describe('withTimeout', () => {
  it('gives the work its result when it settles in time, or its error', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('own')), 1000, () => new Error('late'))).rejects.toThrow('own');
  });

  it('rejects with the error onTimeout makes once the time is up', async () => {
    const started = Date.now();
    await expect(withTimeout(never(), 50, () => new Error('late'))).rejects.toThrow('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('rejects with the reason of a signal that aborts first, or has already aborted', async () => {
    const ctl = new AbortController();
    const waiting = withTimeout(never(), 10_000, () => new Error('late'), ctl.signal);
    ctl.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    await expect(withTimeout(never(), 10_000, () => new Error('late'), ctl.signal)).rejects.toThrow('stopped');
  });
});
