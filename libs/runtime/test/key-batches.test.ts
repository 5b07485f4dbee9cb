import { describe, expect, it } from 'vitest';
import { KeyBatches } from '../src/key-batches.js';

/** A writer whose writes finish only when the test says so, recording every batch it was handed. */
function heldWriter() {
  const batches: { key: string; items: number[] }[] = [];
  const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const write = (key: string, items: number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push({ key, items });
      pending.push({ resolve, reject });
    });
  const tick = () => new Promise((r) => setImmediate(r));
  return { batches, pending, write, tick };
}

describe('KeyBatches', () => {
  it('sends an item alone at once, and items of the same tick together', async () => {
    const w = heldWriter();
    const b = new KeyBatches<number>(w.write);
    const one = b.add('k', 1);
    await w.tick();
    expect(w.batches).toEqual([{ key: 'k', items: [1] }]);
    w.pending[0]?.resolve();
    await one;
    const both = [b.add('k', 2), b.add('k', 3)];
    await w.tick();
    expect(w.batches[1]).toEqual({ key: 'k', items: [2, 3] });
    w.pending[1]?.resolve();
    await Promise.all(both);
  });

  it('gathers the items of a key while its batch is written and sends them after it, in order', async () => {
    const w = heldWriter();
    const b = new KeyBatches<number>(w.write);
    const first = b.add('k', 1);
    await w.tick();
    const later = [b.add('k', 2), b.add('k', 3), b.add('k', 4)];
    const other = b.add('other', 9);
    await w.tick();
    // The other key does not wait; the key's next batch does.
    expect(w.batches).toEqual([
      { key: 'k', items: [1] },
      { key: 'other', items: [9] },
    ]);
    w.pending[0]?.resolve();
    await first;
    await w.tick();
    expect(w.batches[2]).toEqual({ key: 'k', items: [2, 3, 4] });
    w.pending[1]?.resolve();
    w.pending[2]?.resolve();
    await Promise.all([...later, other]);
    expect(w.batches).toHaveLength(3);
  });

  it("rejects every item of a failed batch with its error, and the key's next batch still goes", async () => {
    const w = heldWriter();
    const b = new KeyBatches<number>(w.write);
    const failed = [b.add('k', 1), b.add('k', 2)];
    await w.tick();
    const next = b.add('k', 3);
    w.pending[0]?.reject(new Error('store full'));
    for (const p of failed) await expect(p).rejects.toThrow('store full');
    await w.tick();
    expect(w.batches[1]).toEqual({ key: 'k', items: [3] });
    w.pending[1]?.resolve();
    await expect(next).resolves.toBeUndefined();
  });
});
