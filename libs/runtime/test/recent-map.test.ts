import { describe, expect, it } from 'vitest';
import { RecentMap } from '../src/index.js';

describe('RecentMap', () => {
  it('keeps the last `max` keys written, a rewrite making its key the newest', () => {
    const m = new RecentMap<string, number>(3);
    for (const [k, v] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      m.set(k, v);
    m.set('a', 10); // a is now the newest; b the oldest
    m.set('d', 4);
    expect(m.size).toBe(3);
    expect([m.get('a'), m.get('b'), m.get('c'), m.get('d')]).toEqual([10, undefined, 3, 4]);
    expect(m.delete('c')).toBe(true);
    m.set('e', 5);
    expect([m.get('a'), m.get('d'), m.get('e'), m.size]).toEqual([10, 4, 5, 3]);
  });
});
