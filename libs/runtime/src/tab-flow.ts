import { createHash } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  MaxSessionBatch,
  newTask,
  nextTaskProgress,
  ProvisionJobSchema,
  pendingStateFor,
  provisionMsgId,
  provisionSubject,
  redriveMsgId,
  type SandboxView,
  type SessionJob,
  SessionJobSchema,
  type Step,
  sandboxView,
  sessionDestroyMsgId,
  sessionMsgId,
  sessionSubject,
  type TabRecord,
  TabState,
  type TaskProgress,
  TaskProvisioning,
  type TaskRecord,
  tabKey,
  taskKey,
  taskProgressKey,
  teardownMsgId,
  toPendingSession,
  toProvisioning,
  toReprovisioning,
  toSandboxLost,
  withSessionProgress,
  withTaskProvisionStep,
} from '@tabmesh/contracts';
import type { Bus } from './bus-setup.js';
import { publishJob } from './publish.js';
import { TabStore, TaskStore } from './stores.js';
import type { Versioned } from './typed-kv.js';

export type DriveOptions = {
  /** false (a create): publish a provision job only for a generation this call starts. */
  republish?: boolean;
  /**
   * Above 0: the job is presumed lost (the pending sweep), so it is published under a new dedupe
   * id for this round instead of the one a lost job still holds for the dedupe window.
   */
  redrive?: number;
  /** The tab as the caller just wrote it, at its revision: a session job published here carries it. */
  written?: Versioned<TabRecord>;
};

/**
 * The steps that move a tab along, shared by tab-registry (on create, retry and sweep) and the
 * provisioner (after a sandbox is ready). Each is idempotent: state changes are compare-and-set and
 * jobs carry dedupe ids, so two processes doing the same step at once is safe.
 */
export class TabFlow {
  constructor(
    private readonly js: JetStreamClient,
    readonly tabs: TabStore,
    readonly tasks: TaskStore,
  ) {}

  /** The flow over the bus's `tabs` and `tasks` buckets. */
  static onBus(bus: Bus): TabFlow {
    return new TabFlow(bus.js, new TabStore(bus.tabs, bus.tabSlots), new TaskStore(bus.tasks));
  }

  /**
   * Makes sure the task is being provisioned: starts a new generation when it is unprovisioned or
   * failed, and publishes the current generation's job — when this call started it, or always with
   * `republish` (the sweep's way to recover a job whose publisher died between the task write and
   * the publish). Returns the task as it now stands.
   */
  async requestProvisioning(
    org: string,
    task: string,
    correlationId: string,
    opts: DriveOptions = {},
  ): Promise<Versioned<TaskRecord>> {
    const res = await this.tasks.mutate(taskKey(org, task), (cur) => toProvisioning(cur?.value ?? newTask(org, task)));
    if (!res) throw new Error(`task ${org}.${task} vanished while requesting provisioning`);
    if (res.value.state === TaskProvisioning.Provisioning && (res.changed || opts.republish !== false)) {
      await publishJob(
        this.js,
        provisionSubject(org, task),
        ProvisionJobSchema,
        { v: 1, op: 'provision', org, task, generation: res.value.generation },
        redriveMsgId(provisionMsgId(org, task, res.value.generation), opts.redrive ?? 0),
        correlationId,
      );
    }
    return { value: res.value, revision: res.revision };
  }

  /**
   * The sandbox `lostSandboxId` under `tab` is gone (died, destroyed by a reboot or an operator) or
   * no longer the task's (idle reaping raced a create): a provisioned task that still names it starts
   * a new generation, the old sandbox goes to the provisioner to be destroyed should it still answer,
   * and every tab of the task on it, ready or waiting for its session, goes back to provisioning with
   * a new attempt. All compare-and-set, so any number of processes may do this at once.
   */
  async replaceLostSandbox(
    tab: { org: string; task: string },
    lostSandboxId: string,
    correlationId: string,
  ): Promise<void> {
    let lost: SandboxView | null = null;
    const task = await this.tasks.mutate(taskKey(tab.org, tab.task), (cur) => {
      lost = cur?.value.sandbox ?? null;
      return cur ? toReprovisioning(cur.value, lostSandboxId) : null;
    });
    const old = lost as SandboxView | null;
    if (task?.changed && old)
      await this.enqueueSandboxDestroy(tab.org, tab.task, task.value.generation, old, correlationId);
    await this.rehomeTabs(tab.org, tab.task, lostSandboxId, correlationId);
  }

  /**
   * Sends every tab of the task still on `lostSandboxId` (ready or waiting for its session) back to
   * provisioning and drives it, so it ends on the task's next sandbox. Returns how many moved.
   */
  async rehomeTabs(org: string, task: string, lostSandboxId: string, correlationId: string): Promise<number> {
    let moved = 0;
    for (const t of await this.tabs.listOpen(org, task)) {
      if (t.value.sandboxId !== lostSandboxId) continue;
      const res = await this.tabs.mutate(tabKey(org, task, t.value.id), (cur) =>
        cur ? toSandboxLost(cur.value, lostSandboxId) : null,
      );
      if (!res?.changed) continue;
      moved++;
      await this.drive(res.value, correlationId);
    }
    return moved;
  }

  /**
   * Hands a sandbox the task no longer holds to the provisioner for destruction (its slot is freed
   * there). `generation` is the task's generation after it let go, so the dedupe id is per release.
   */
  async enqueueSandboxDestroy(
    org: string,
    task: string,
    generation: number,
    sandbox: SandboxView,
    correlationId: string,
  ): Promise<void> {
    await publishJob(
      this.js,
      provisionSubject(org, task),
      ProvisionJobSchema,
      { v: 1, op: 'teardown', org, task, generation, sandbox: sandboxView(sandbox) },
      teardownMsgId(org, task, generation),
      correlationId,
    );
  }

  /**
   * Publishes the session job of a tab in `pending_session_create` (deduped per tab attempt).
   * `written`: the tab as this call's caller just wrote it, carried on the job so that its first
   * delivery need not read the tab again.
   */
  async enqueueSession(
    tab: TabRecord,
    correlationId: string,
    redrive = 0,
    written?: Versioned<TabRecord>,
  ): Promise<void> {
    const job: SessionJob = {
      v: 1,
      op: 'create',
      org: tab.org,
      task: tab.task,
      tab: tab.id,
      attempt: tab.attempt,
      ...(written ? { written: { revision: written.revision, tab: written.value } } : {}),
    };
    await this.publishSessionJob(tab, job, redriveMsgId(sessionMsgId(tab.id, tab.attempt), redrive), correlationId);
  }

  /**
   * Publishes one `create_many` job for tabs of one task in `pending_session_create`, each with its
   * version as just written (at most MaxSessionBatch per job; more make more jobs). One tab gets the
   * job of its own, as from anywhere else.
   */
  async enqueueSessions(tabs: Versioned<TabRecord>[], correlationId: string): Promise<void> {
    const [first] = tabs;
    if (!first) return;
    if (tabs.length === 1) return this.enqueueSession(first.value, correlationId, 0, first);
    const { org, task } = first.value;
    const entries = tabs.map((t) => ({
      tab: t.value.id,
      attempt: t.value.attempt,
      written: { revision: t.revision, tab: t.value },
    }));
    await this.publishPerChunk(org, task, entries, correlationId, (chunk) => ({
      job: { v: 1, op: 'create_many', org, task, tabs: chunk },
      msgId: sessionBatchMsgId(org, task, chunk),
    }));
  }

  /** Publishes the destroy job of a closed tab's live session (deduped per session; destroy is idempotent). */
  async enqueueSessionDestroy(tab: TabRecord, correlationId: string): Promise<void> {
    if (!tab.sessionId) return;
    const job = { v: 1, op: 'destroy', org: tab.org, task: tab.task, tab: tab.id, sessionId: tab.sessionId } as const;
    await this.publishSessionJob(tab, job, sessionDestroyMsgId(tab.id, tab.sessionId), correlationId);
  }

  /**
   * Publishes the destroy jobs of closed tabs of one task with live sessions: one `destroy_many` for
   * up to MaxSessionBatch of them (deduped per set of sessions), one `destroy` for a tab alone.
   */
  async enqueueSessionDestroys(tabs: TabRecord[], correlationId: string): Promise<void> {
    const live = tabs.filter((t) => t.sessionId);
    const [first] = live;
    if (!first) return;
    if (live.length === 1) return this.enqueueSessionDestroy(first, correlationId);
    const { org, task } = first;
    const sessions = live.flatMap((t) => (t.sessionId ? [{ tab: t.id, sessionId: t.sessionId }] : []));
    await this.publishPerChunk(org, task, sessions, correlationId, (chunk) => ({
      job: { v: 1, op: 'destroy_many', org, task, sessions: chunk },
      msgId: sessionDestroyBatchMsgId(org, task, chunk),
    }));
  }

  /** One job per MaxSessionBatch entries of a task's tabs, each on the subject of its chunk's first tab. */
  private async publishPerChunk<T extends { tab: string }>(
    org: string,
    task: string,
    entries: T[],
    correlationId: string,
    jobOf: (chunk: T[]) => { job: SessionJob; msgId: string },
  ): Promise<void> {
    const jobs: Promise<boolean>[] = [];
    for (let i = 0; i < entries.length; i += MaxSessionBatch) {
      const chunk = entries.slice(i, i + MaxSessionBatch);
      const { job, msgId } = jobOf(chunk);
      const subject = sessionSubject(org, task, chunk[0]?.tab ?? '');
      jobs.push(publishJob(this.js, subject, SessionJobSchema, job, msgId, correlationId));
    }
    await Promise.all(jobs);
  }

  private async publishSessionJob(tab: TabRecord, job: SessionJob, msgId: string, correlationId: string) {
    await publishJob(this.js, sessionSubject(tab.org, tab.task, tab.id), SessionJobSchema, job, msgId, correlationId);
  }

  /**
   * Moves a `pending_provision` tab of a provisioned task to `pending_session_create` and enqueues
   * its session job. A tab already past that point is left alone (its job is republished if it is
   * still waiting for a session, which dedupe makes harmless).
   */
  async advanceToSession(
    org: string,
    task: string,
    tab: string,
    sandboxId: string,
    correlationId: string,
    known?: Versioned<TabRecord>,
  ): Promise<Versioned<TabRecord> | null> {
    const res = await this.moveToSession(org, task, tab, sandboxId, known);
    if (res?.value.state === TabState.PendingSessionCreate) await this.enqueueSession(res.value, correlationId, 0, res);
    return res;
  }

  /** The compare-and-set that moves a tab to `pending_session_create` (no change past it); what is stored after. */
  private async moveToSession(
    org: string,
    task: string,
    tab: string,
    sandboxId: string,
    known?: Versioned<TabRecord>,
  ): Promise<Versioned<TabRecord> | null> {
    const res = await this.tabs.mutate(
      tabKey(org, task, tab),
      (cur) => (cur ? toPendingSession(cur.value, sandboxId) : null),
      known,
    );
    return res ? { value: res.value, revision: res.revision } : null;
  }

  /**
   * Moves the `pending_provision` tabs of a task just provisioned to `pending_session_create`, each
   * with compare-and-set from the version given, and hands them to session creation in one job (see
   * enqueueSessions) instead of one job each. Tabs already past that point are left alone; those
   * still waiting for a session are in the job again (dedupe and idempotent jobs make that harmless).
   */
  async advanceAllToSession(
    org: string,
    task: string,
    tabs: Versioned<TabRecord>[],
    sandboxId: string,
    correlationId: string,
  ): Promise<void> {
    const moved = await Promise.all(tabs.map((tab) => this.moveToSession(org, task, tab.value.id, sandboxId, tab)));
    const waiting = moved.filter(
      (res): res is Versioned<TabRecord> => res?.value.state === TabState.PendingSessionCreate,
    );
    await this.enqueueSessions(waiting, correlationId);
  }

  /**
   * Writes the current provisioning step to the task and to the task's progress entry in `tabs`,
   * which the gateway shows on the tabs still waiting on it: one write per step, however many tabs
   * wait. Only a task still provisioning `generation` is written.
   */
  async reportProvisionStep(
    where: { org: string; task: string; generation: number },
    step: Step,
    detail?: string,
    opts: {
      /** Write the progress entry again even when the task is unchanged (see nextTaskProgress). */
      repeatUnchanged?: boolean;
      /** The task as the caller last read or wrote it (see TypedBucket.mutate); told what is stored after. */
      task?: { known: Versioned<TaskRecord> | undefined };
      /** The progress entry as this job last wrote it, likewise. */
      progress?: { known: TaskProgress | undefined };
    } = {},
  ): Promise<boolean> {
    const res = await this.tasks.mutate(
      taskKey(where.org, where.task),
      (cur) =>
        cur && cur.value.generation === where.generation ? withTaskProvisionStep(cur.value, step, detail) : null,
      opts.task?.known,
    );
    if (opts.task) opts.task.known = res ? { value: res.value, revision: res.revision } : undefined;
    const repeat = opts.repeatUnchanged === true && res?.value.generation === where.generation;
    if (!res?.changed && !repeat) return false;
    const written = await this.tabs.progress.mutate(
      taskProgressKey(where.org, where.task),
      (cur) => nextTaskProgress(cur?.value, where, step, detail, repeat),
      opts.progress?.known,
    );
    if (opts.progress) opts.progress.known = written ? { value: written.value, revision: written.revision } : undefined;
    return true;
  }

  /** Writes the progress text of a tab waiting for its session (queue position, retry); returns what is stored. */
  async reportSessionProgress(
    tab: TabRecord,
    detail?: string,
    known?: Versioned<TabRecord>,
  ): Promise<{ value: TabRecord; revision: number; changed: boolean } | null> {
    return this.tabs.mutate(
      tabKey(tab.org, tab.task, tab.id),
      (cur) => (cur && cur.value.attempt === tab.attempt ? withSessionProgress(cur.value, detail) : null),
      known,
    );
  }

  /**
   * Brings one pending tab in line with its task: the step the tab waits on is (re)requested.
   * Used after a create or retry, and by the sweep for tabs whose job may have been lost.
   * `republish: false` (a create) publishes a provision job only for a generation this call starts:
   * the next tabs of a task being provisioned add no duplicate publish each; a job lost with its
   * publisher is published again by the sweep, which republishes.
   * Returns the tab as written when this call moved it on, else null (no extra read).
   */
  async drive(tab: TabRecord, correlationId: string, opts: DriveOptions = {}): Promise<Versioned<TabRecord> | null> {
    if (tab.state === TabState.PendingSessionCreate) {
      await this.enqueueSession(tab, correlationId, opts.redrive, opts.written);
      return null;
    }
    if (tab.state !== TabState.PendingProvision) return null;
    const task = await this.requestProvisioning(tab.org, tab.task, correlationId, opts);
    const entry = pendingStateFor(task.value);
    if (entry.state === TabState.PendingSessionCreate) {
      return this.advanceToSession(tab.org, tab.task, tab.id, entry.sandboxId, correlationId);
    }
    return null;
  }
}

/** A `destroy_many` job's dedupe id: one per set of sessions, as `sessionDestroyMsgId` is per session. */
export function sessionDestroyBatchMsgId(
  org: string,
  task: string,
  sessions: { tab: string; sessionId: string }[],
): string {
  return setMsgId(
    'destroys',
    org,
    task,
    sessions.map((s) => `${s.tab}.${s.sessionId}`),
  );
}

/**
 * A `create_many` job's dedupe id: one per set of tab attempts, so a provisioning job run again
 * (redelivered after its publish) hands the same waiting tabs over once. A tab attempt in two jobs
 * (a create raced the hand-over) is harmless: session jobs are idempotent per tab attempt.
 */
export function sessionBatchMsgId(org: string, task: string, tabs: { tab: string; attempt: number }[]): string {
  return setMsgId(
    'sessions',
    org,
    task,
    tabs.map((t) => `${t.tab}.${t.attempt}`),
  );
}

/** A dedupe id for a set of members of one task: the same set, the same id. */
function setMsgId(kind: string, org: string, task: string, members: string[]): string {
  return `${kind}.${org}.${task}.${createHash('sha256').update(members.join(',')).digest('base64url')}`;
}
