import type { ClientFrame, SnapshotFrame, Tab, TaskStatus } from '@tabmesh/contracts';
import { applySnapshot, applyTab, applyTask, diffViews, emptyView, type TaskView } from './task-view.js';

export const RefreshReason = { Bootstrap: 'bootstrap', Event: 'event', Reconnect: 'reconnect' } as const;
export type RefreshReason = (typeof RefreshReason)[keyof typeof RefreshReason];

/** Why a listener is being called: every call carries one, so a UI never has to guess. */
export type Refresh =
  /** The first full state of the task (a snapshot), or the current state for a late subscriber. */
  | { reason: 'bootstrap'; revision: number }
  /** One live change. */
  | { reason: 'event'; frame: 'tab'; tab: Tab }
  | { reason: 'event'; frame: 'task'; task: TaskStatus }
  /**
   * A resumed connection caught up: `replay` (the missed tab changes, in order, in `tabs`) or
   * `snapshot` (history no longer covered the gap; `tabs` are the tabs that differ, `removed` left).
   */
  | { reason: 'reconnect'; mode: 'replay' | 'snapshot'; sinceRevision: number; tabs: Tab[]; removed: string[] };

export type TaskListener = (view: TaskView, refresh: Refresh) => void;

const Phase = { AwaitingSnapshot: 'awaiting-snapshot', Resuming: 'resuming', Live: 'live' } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * One subscribed task on a connection: its view, its listeners (the reference count), and where it
 * is in (re)subscribing. A resume is held back until the server's catch-up ends (the `task` frame
 * after the missed tab frames) so listeners see it as one `reconnect` refresh.
 */
export class TaskEntry {
  view: TaskView;
  readonly listeners = new Set<TaskListener>();
  private phase: Phase = Phase.AwaitingSnapshot;
  private resumeFrom = 0;
  private replayed: Tab[] = [];

  constructor(
    readonly org: string,
    readonly task: string,
    private readonly onListenerError: (error: unknown) => void,
  ) {
    this.view = emptyView(org, task);
  }

  get live(): boolean {
    return this.phase === Phase.Live;
  }

  /** The frame to send on a freshly opened socket: a resume once the task was bootstrapped. */
  subscribeFrame(): ClientFrame {
    const { org, task } = this;
    if (!this.view.bootstrapped) {
      this.phase = Phase.AwaitingSnapshot;
      return { op: 'subscribe', org, task };
    }
    // Dropped again mid-resume: keep what was replayed so far; it has not been reported yet.
    if (this.phase !== Phase.Resuming) {
      this.resumeFrom = this.view.revision;
      this.replayed = [];
    }
    this.phase = Phase.Resuming;
    return { op: 'subscribe', org, task, sinceRevision: this.view.revision };
  }

  onSnapshot(frame: SnapshotFrame): void {
    const before = this.view;
    this.view = applySnapshot(before, frame);
    if (this.phase === Phase.Resuming) {
      const { changed, removed } = diffViews(before, this.view);
      this.finishResume('snapshot', changed, removed);
      return;
    }
    this.phase = Phase.Live;
    this.notify({ reason: 'bootstrap', revision: this.view.revision });
  }

  onTab(tab: Tab): void {
    // Before the first snapshot nothing is applied: the snapshot will hold it.
    if (this.phase === Phase.AwaitingSnapshot) return;
    const result = applyTab(this.view, tab);
    if (!result.applied) return;
    this.view = result.view;
    if (this.phase === Phase.Resuming) this.replayed.push(tab);
    else this.notify({ reason: 'event', frame: 'tab', tab });
  }

  onTask(status: TaskStatus): void {
    if (this.phase === Phase.AwaitingSnapshot) return;
    const result = applyTask(this.view, status);
    this.view = result.view;
    if (this.phase === Phase.Resuming) {
      // The server ends a replay with the task's status: the catch-up is complete.
      const replayed = this.replayed;
      const removed = replayed.filter((t) => !this.view.tabs.has(t.id)).map((t) => t.id);
      this.finishResume('replay', replayed, [...new Set(removed)]);
      return;
    }
    if (result.applied) this.notify({ reason: 'event', frame: 'task', task: status });
  }

  /** Tells one new listener the current state, if there is one yet. */
  greet(listener: TaskListener): void {
    if (this.view.bootstrapped) this.call(listener, { reason: 'bootstrap', revision: this.view.revision });
  }

  private finishResume(mode: 'replay' | 'snapshot', tabs: Tab[], removed: string[]): void {
    this.phase = Phase.Live;
    this.replayed = [];
    this.notify({ reason: 'reconnect', mode, sinceRevision: this.resumeFrom, tabs, removed });
  }

  private notify(refresh: Refresh): void {
    for (const listener of [...this.listeners]) this.call(listener, refresh);
  }

  private call(listener: TaskListener, refresh: Refresh): void {
    try {
      listener(this.view, refresh);
    } catch (err) {
      this.onListenerError(err);
    }
  }
}
