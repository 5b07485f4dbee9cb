/** Counts free slots; `acquire` resolves when one is free. */
export class Semaphore {
  private waiters: Array<() => void> = [];
  private used = 0;
  constructor(private readonly size: number) {}

  get inUse(): number {
    return this.used;
  }
  get free(): number {
    return this.size - this.used;
  }

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.used++;
  }

  release(): void {
    this.used--;
    this.waiters.shift()?.();
  }

  /** Resolves when every slot is free. */
  async idle(): Promise<void> {
    while (this.used > 0) await new Promise((r) => setTimeout(r, 20));
  }
}
