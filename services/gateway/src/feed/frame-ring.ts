/**
 * The recent encoded `tab` frames of one task, with `floor`: the revision from which the ring is
 * complete. A client whose `sinceRevision >= floor` can be caught up from the ring alone.
 */
export class FrameRing {
  private readonly entries: Array<{ revision: number; text: string }> = [];

  constructor(
    private readonly capacity: number,
    private floorRevision: number,
  ) {}

  get floor(): number {
    return this.floorRevision;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Frames must be pushed in revision order. */
  push(revision: number, text: string): void {
    this.entries.push({ revision, text });
    if (this.entries.length > this.capacity) {
      const evicted = this.entries.shift();
      if (evicted) this.floorRevision = evicted.revision;
    }
  }

  covers(sinceRevision: number): boolean {
    return sinceRevision >= this.floorRevision;
  }

  /** Frames with a revision above `sinceRevision`, oldest first. */
  after(sinceRevision: number): string[] {
    return this.entries.filter((e) => e.revision > sinceRevision).map((e) => e.text);
  }
}
