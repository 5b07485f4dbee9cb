import { describe, expect, it } from 'vitest';
import { problemOf } from './access-notice.js';
import { tokenExpired } from './token-store.js';

const jwt = (payload: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
const now = 1_700_000_000_000;

describe('sign-in notice words', () => {
  it('reads exp from a JWT without verifying it, and says nothing about other tokens', () => {
    expect(tokenExpired(jwt({ exp: now / 1000 - 1, sub: 'dev?ü' }), now)).toBe(true);
    expect(tokenExpired(jwt({ exp: now / 1000 + 60 }), now)).toBe(false);
    expect(tokenExpired(jwt({ sub: 'no exp' }), now)).toBeNull();
    expect(tokenExpired('opaque-token', now)).toBeNull();
    expect(tokenExpired('a.%%%.c', now)).toBeNull();
  });

  it('tells not signed in, expired and refused apart', () => {
    expect(problemOf(null)).toEqual({ kind: 'signed-out' });
    expect(problemOf('t', { reason: 'refused', hadToken: false })).toEqual({ kind: 'signed-out' });
    expect(problemOf('t', { reason: 'expired', hadToken: true })).toEqual({ kind: 'expired' });
    expect(problemOf(jwt({ exp: 1 }), { reason: 'refused', hadToken: true })).toEqual({ kind: 'expired' });
    expect(problemOf(jwt({ exp: Date.now() / 1000 + 600 }))).toEqual({ kind: 'rejected' });
  });
});
