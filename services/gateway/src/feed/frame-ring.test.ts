import { describe, expect, it } from 'vitest';
import { FrameRing } from './frame-ring.js';

describe('FrameRing', () => {
  it('returns the frames after a revision, in order', () => {
    const ring = new FrameRing(4, 10);
    ring.push(11, 'a');
    ring.push(13, 'b');
    ring.push(20, 'c');
    expect(ring.after(10)).toEqual(['a', 'b', 'c']);
    expect(ring.after(13)).toEqual(['c']);
    expect(ring.after(20)).toEqual([]);
  });

  it('covers revisions from its floor, and raises the floor when it drops old frames', () => {
    const ring = new FrameRing(2, 10);
    expect(ring.covers(9)).toBe(false);
    expect(ring.covers(10)).toBe(true);
    ring.push(11, 'a');
    ring.push(12, 'b');
    ring.push(15, 'c');
    expect(ring.size).toBe(2);
    expect(ring.floor).toBe(11);
    expect(ring.covers(10)).toBe(false);
    expect(ring.covers(11)).toBe(true);
    expect(ring.after(11)).toEqual(['b', 'c']);
  });
});
