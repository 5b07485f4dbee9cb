import type { KV } from '@nats-io/kv';
import {
  type SandboxSlotHolder,
  SandboxSlotsKey,
  SandboxSlotsSchema,
  type SandboxView,
  type SandboxSlots as SlotsValue,
  sandboxView,
  slotHolderKey,
  TaskProvisioning,
  type TaskRecord,
} from '@tabmesh/contracts';
import { nowIso } from './stores.js';
import { TypedBucket } from './typed-kv.js';

export type SlotHolderRef = { org: string; task: string; generation: number };

const empty = (): SlotsValue => ({ v: 1, holders: {} });

/**
 * The deployment-wide cap on live sandboxes (TABMESH_MAX_SANDBOXES), shared by every provisioner
 * process through KV bucket `sandbox-slots`.
 *
 * One key holds the whole holder set and every change is a compare-and-set on it. Counting keys
 * (one per holder) cannot enforce a cap: two provisioners each see two holders and both create a
 * third. With one key the check and the claim are one write, so the cap is never exceeded; the set
 * stays small (at most the cap, plus sandboxes whose release is under way), so rewriting it is cheap.
 * A cap of 0 turns the whole mechanism off: nothing is read or written.
 */
export class SandboxSlots {
  private readonly bucket: TypedBucket<typeof SandboxSlotsSchema>;
  private readonly waiters = new Set<() => void>();
  private poller: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    kv: KV,
    readonly cap: number,
    private readonly opts: { pollMs?: number } = {},
  ) {
    this.bucket = new TypedBucket(kv, SandboxSlotsSchema, 'sandbox slots');
  }

  get enabled(): boolean {
    return this.cap > 0;
  }

  async holders(): Promise<SandboxSlotHolder[]> {
    return Object.values((await this.bucket.get(SandboxSlotsKey))?.value.holders ?? {});
  }

  /**
   * Takes a slot for this task generation when one is free. Idempotent: a generation that holds one
   * already (a redelivered job after a crash) keeps it. Returns whether the generation holds a slot.
   */
  async acquire(h: SlotHolderRef): Promise<boolean> {
    const key = slotHolderKey(h.org, h.task, h.generation);
    const res = await this.bucket.mutate(SandboxSlotsKey, (cur) => {
      const value = cur?.value ?? empty();
      if (value.holders[key] || Object.keys(value.holders).length >= this.cap) return null;
      const now = nowIso();
      return { ...value, holders: { ...value.holders, [key]: { ...h, sandbox: null, since: now, renewedAt: now } } };
    });
    return Boolean(res?.value.holders[key]);
  }

  /** Records the sandbox a holder now runs; a holder dropped meanwhile is taken again, since it does run. */
  async attach(h: SlotHolderRef, sandbox: SandboxView): Promise<void> {
    const key = slotHolderKey(h.org, h.task, h.generation);
    await this.bucket.mutate(SandboxSlotsKey, (cur) => {
      const value = cur?.value ?? empty();
      const held = value.holders[key];
      if (held?.sandbox?.id === sandbox.id) return null;
      const now = nowIso();
      return {
        ...value,
        holders: {
          ...value.holders,
          [key]: { ...h, sandbox: sandboxView(sandbox), since: held?.since ?? now, renewedAt: now },
        },
      };
    });
  }

  /** Keeps a starting holder's lease fresh while its job works, so reconciliation leaves it. */
  async renew(h: SlotHolderRef): Promise<void> {
    const key = slotHolderKey(h.org, h.task, h.generation);
    await this.bucket.mutate(SandboxSlotsKey, (cur) => {
      const held = cur?.value.holders[key];
      if (!cur || !held) return null;
      return { ...cur.value, holders: { ...cur.value.holders, [key]: { ...held, renewedAt: nowIso() } } };
    });
  }

  /** Drops every holder `drop` picks; returns how many went. */
  async release(drop: (h: SandboxSlotHolder) => boolean): Promise<number> {
    let dropped = 0;
    await this.bucket.mutate(SandboxSlotsKey, (cur) => {
      if (!cur) return null;
      const kept = Object.entries(cur.value.holders).filter(([, h]) => !drop(h));
      dropped = Object.keys(cur.value.holders).length - kept.length;
      return dropped > 0 ? { ...cur.value, holders: Object.fromEntries(kept) } : null;
    });
    if (dropped > 0) this.wake(dropped);
    return dropped;
  }

  releaseGeneration(h: SlotHolderRef): Promise<number> {
    return this.release((x) => x.org === h.org && x.task === h.task && x.generation === h.generation);
  }

  /** A destroyed sandbox: the holder that ran it, and any older generation of the task still starting. */
  releaseSandbox(org: string, task: string, sandboxId: string, belowGeneration: number): Promise<number> {
    return this.release(
      (x) =>
        x.org === org &&
        x.task === task &&
        (x.sandbox?.id === sandboxId || (x.sandbox === null && x.generation < belowGeneration)),
    );
  }

  /**
   * Resolves when a slot may be free (or after `maxWaitMs`, so the caller can see whether its job is
   * still current), rejects when `signal` aborts. One poller per process serves every waiter, oldest
   * first, so a backlog of waiting jobs costs one read per poll rather than one each.
   */
  waitForRoom(signal: AbortSignal, maxWaitMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const wake = () => done(resolve);
      const onAbort = () => done(() => reject(signal.reason));
      const timer = setTimeout(wake, maxWaitMs);
      this.waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
      this.poller ??= setInterval(() => void this.poll(), this.opts.pollMs ?? 250);
    });
  }

  private wake(n: number): void {
    for (const w of [...this.waiters].slice(0, n)) w();
  }

  private async poll(): Promise<void> {
    if (this.waiters.size === 0) {
      if (this.poller) clearInterval(this.poller);
      this.poller = null;
      return;
    }
    if (this.polling) return;
    this.polling = true;
    try {
      this.wake(this.cap - (await this.holders()).length);
    } catch {
      /* the bus is briefly away: the next poll or the waiters' own timeout goes on */
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }
}

/**
 * Whether a holder is still needed by its task: the task is provisioning that generation, or runs
 * that holder's sandbox. Anything else is a holder a crash or a race left behind.
 */
export function holderIsCurrent(h: SandboxSlotHolder, task: TaskRecord | null | undefined): boolean {
  if (!task || task.generation !== h.generation) return false;
  if (task.state === TaskProvisioning.Provisioning) return true;
  return task.state === TaskProvisioning.Provisioned && (h.sandbox === null || task.sandbox?.id === h.sandbox.id);
}
