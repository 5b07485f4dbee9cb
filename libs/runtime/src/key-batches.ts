/**
 * Work for one key from this process, sent in batches: while a batch of a key is being written, the
 * next items of that key gather and go together once it is done. An item alone goes out at once
 * (after the current tick, so items added in the same tick share its batch too).
 */
export class KeyBatches<T> {
  private readonly batches = new Map<string, Batch<T>>();

  /** `write` sends one batch of a key; its outcome is every item's outcome. */
  constructor(private readonly write: (key: string, items: T[]) => Promise<void>) {}

  /** Resolves once the batch holding `item` has been written; rejects with that batch's error. */
  add(key: string, item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = { item, resolve, reject };
      const open = this.batches.get(key);
      if (open && !open.started) {
        open.entries.push(entry);
        return;
      }
      const batch: Batch<T> = { entries: [entry], started: false, done: Promise.resolve() };
      this.batches.set(key, batch);
      batch.done = (open?.done ?? Promise.resolve())
        .then(async () => {
          batch.started = true;
          try {
            await this.write(
              key,
              batch.entries.map((e) => e.item),
            );
            for (const e of batch.entries) e.resolve();
          } catch (err) {
            for (const e of batch.entries) e.reject(err);
          }
        })
        .finally(() => {
          if (this.batches.get(key) === batch) this.batches.delete(key);
        });
    });
  }
}

type Batch<T> = {
  entries: { item: T; resolve: () => void; reject: (err: unknown) => void }[];
  started: boolean;
  done: Promise<void>;
};
