import type { JetStreamClient } from '@nats-io/jetstream';
import {
  ProvisionJobSchema,
  SessionJobSchema,
  TabState,
  TaskProvisioning,
  newTask,
  pendingStateFor,
  provisionMsgId,
  provisionSubject,
  sessionMsgId,
  sessionSubject,
  tabKey,
  taskKey,
  toPendingProvision,
  toPendingSession,
  toProvisioning,
  toReprovisioning,
  withProvisionStep,
  withSessionProgress,
  withTaskProvisionStep,
  type Step,
  type TabRecord,
  type TaskRecord,
} from '@tabmesh/contracts';
import { publishJob } from './publish.js';
import type { TabStore, TaskStore } from './stores.js';
import type { Versioned } from './typed-kv.js';

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

  /**
   * Makes sure the task is being provisioned: starts a new generation when it is unprovisioned or
   * failed, and (re)publishes the current generation's job. Returns the task as it now stands.
   */
  async requestProvisioning(org: string, task: string, correlationId: string): Promise<Versioned<TaskRecord>> {
    const res = await this.tasks.mutate(taskKey(org, task), (cur) => toProvisioning(cur?.value ?? newTask(org, task)));
    if (!res) throw new Error(`task ${org}.${task} vanished while requesting provisioning`);
    if (res.value.state === TaskProvisioning.Provisioning) {
      await publishJob(
        this.js,
        provisionSubject(org, task),
        ProvisionJobSchema,
        { v: 1, op: 'provision', org, task, generation: res.value.generation },
        provisionMsgId(org, task, res.value.generation),
        correlationId,
      );
    }
    return { value: res.value, revision: res.revision };
  }

  /**
   * The task's sandbox is gone (a reboot, an operator, a crashed host): start a new provisioning
   * generation and send the tab back to wait for it, with a new attempt so its next session job is
   * not taken for a duplicate.
   */
  async replaceLostSandbox(tab: TabRecord, lostSandboxId: string, correlationId: string): Promise<void> {
    await this.tasks.mutate(taskKey(tab.org, tab.task), (cur) => (cur ? toReprovisioning(cur.value, lostSandboxId) : null));
    await this.tabs.mutate(tabKey(tab.org, tab.task, tab.id), (cur) =>
      cur && cur.value.attempt === tab.attempt ? toPendingProvision(cur.value) : null,
    );
    // Whoever won the task write, make sure the current generation is queued and the tab driven.
    const current = await this.tabs.getTab(tab.org, tab.task, tab.id);
    if (current) await this.drive(current.value, correlationId);
  }

  /** Publishes the session job of a tab in `pending_session_create` (deduped per tab attempt). */
  async enqueueSession(tab: TabRecord, correlationId: string): Promise<void> {
    await publishJob(
      this.js,
      sessionSubject(tab.org, tab.task, tab.id),
      SessionJobSchema,
      { v: 1, op: 'create', org: tab.org, task: tab.task, tab: tab.id, attempt: tab.attempt },
      sessionMsgId(tab.id, tab.attempt),
      correlationId,
    );
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
  ): Promise<Versioned<TabRecord> | null> {
    const res = await this.tabs.mutate(tabKey(org, task, tab), (cur) => (cur ? toPendingSession(cur.value, sandboxId) : null));
    if (res && res.value.state === TabState.PendingSessionCreate) await this.enqueueSession(res.value, correlationId);
    return res ? { value: res.value, revision: res.revision } : null;
  }

  /**
   * Writes the current provisioning step to the task and to its tabs still waiting on it, so every
   * watcher sees what the tab waits for. Only a task still provisioning `generation` is written.
   */
  async reportProvisionStep(
    where: { org: string; task: string; generation: number },
    step: Step,
    detail?: string,
  ): Promise<boolean> {
    const res = await this.tasks.mutate(taskKey(where.org, where.task), (cur) =>
      cur && cur.value.generation === where.generation ? withTaskProvisionStep(cur.value, step, detail) : null,
    );
    if (!res?.changed) return false;
    for (const tab of await this.tabs.listTask(where.org, where.task)) {
      if (tab.value.state !== TabState.PendingProvision) continue;
      await this.tabs.mutate(tabKey(where.org, where.task, tab.value.id), (cur) =>
        cur ? withProvisionStep(cur.value, step, detail) : null,
      );
    }
    return true;
  }

  /** Writes the progress text of a tab waiting for its session (queue position, retry). */
  async reportSessionProgress(tab: TabRecord, detail?: string): Promise<boolean> {
    const res = await this.tabs.mutate(tabKey(tab.org, tab.task, tab.id), (cur) =>
      cur && cur.value.attempt === tab.attempt ? withSessionProgress(cur.value, detail) : null,
    );
    return res?.changed ?? false;
  }

  /**
   * Brings one pending tab in line with its task: the step the tab waits on is (re)requested.
   * Used after a create or retry, and by the sweep for tabs whose job may have been lost.
   * Returns the tab as written when this call moved it on, else null (no extra read).
   */
  async drive(tab: TabRecord, correlationId: string): Promise<Versioned<TabRecord> | null> {
    if (tab.state === TabState.PendingSessionCreate) {
      await this.enqueueSession(tab, correlationId);
      return null;
    }
    if (tab.state !== TabState.PendingProvision) return null;
    const task = await this.requestProvisioning(tab.org, tab.task, correlationId);
    const entry = pendingStateFor(task.value);
    if (entry.state === TabState.PendingSessionCreate) {
      return this.advanceToSession(tab.org, tab.task, tab.id, entry.sandboxId, correlationId);
    }
    return null;
  }
}
