import { type SnapshotFrame, type Tab, TabState, type TaskStatus } from '@tabmesh/contracts';

/**
 * What a client knows about one task: its open tabs and provisioning status. Immutable: every
 * change yields a new view, so a UI can compare by reference.
 */
export type TaskView = {
  readonly org: string;
  readonly task: string;
  /** Open tabs by id. Tab ids are ULIDs, so sorting ids sorts by creation. */
  readonly tabs: ReadonlyMap<string, Tab>;
  /** Revisions of tabs seen closed, so a late frame cannot bring one back. Cleared by a snapshot. */
  readonly closed: ReadonlyMap<string, number>;
  readonly status: TaskStatus | null;
  /** Highest `tabs` bucket revision seen for this task: the `sinceRevision` of a resume. */
  readonly revision: number;
  /** True once a snapshot arrived; before that the view is empty, not "no tabs". */
  readonly bootstrapped: boolean;
};

export function emptyView(org: string, task: string): TaskView {
  return { org, task, tabs: new Map(), closed: new Map(), status: null, revision: 0, bootstrapped: false };
}

/** The open tabs, oldest first. */
export function orderedTabs(view: TaskView): Tab[] {
  return [...view.tabs.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A snapshot replaces everything: tabs not in it are gone (closed, or purged). */
export function applySnapshot(view: TaskView, frame: SnapshotFrame): TaskView {
  const tabs = new Map<string, Tab>();
  let revision = frame.revision;
  for (const tab of frame.tabs) {
    if (tab.state === TabState.Closed) continue;
    tabs.set(tab.id, tab);
    revision = Math.max(revision, tab.revision);
  }
  return { ...view, tabs, closed: new Map(), status: frame.taskStatus, revision, bootstrapped: true };
}

/**
 * Applies one tab change. A frame whose revision is not newer than what the view holds for that
 * tab is a duplicate (or stale) and is ignored: `applied` is false and the view is unchanged.
 */
export function applyTab(view: TaskView, tab: Tab): { view: TaskView; applied: boolean } {
  if (tab.org !== view.org || tab.task !== view.task) return { view, applied: false };
  const known = view.tabs.get(tab.id)?.revision ?? view.closed.get(tab.id) ?? -1;
  if (tab.revision <= known) return { view, applied: false };
  const tabs = new Map(view.tabs);
  let closed = view.closed;
  if (tab.state === TabState.Closed) {
    tabs.delete(tab.id);
    closed = new Map(view.closed).set(tab.id, tab.revision);
  } else {
    tabs.set(tab.id, tab);
  }
  return { view: { ...view, tabs, closed, revision: Math.max(view.revision, tab.revision) }, applied: true };
}

/** Applies a task status; one that is not newer (a resume resends it whole) changes nothing. */
export function applyTask(view: TaskView, status: TaskStatus): { view: TaskView; applied: boolean } {
  if (status.org !== view.org || status.task !== view.task) return { view, applied: false };
  if (view.status && status.revision <= view.status.revision) return { view, applied: false };
  return { view: { ...view, status }, applied: true };
}

/** Tabs that differ between two views (new or changed revision), and ids that left. */
export function diffViews(before: TaskView, after: TaskView): { changed: Tab[]; removed: string[] } {
  const changed = orderedTabs(after).filter((t) => before.tabs.get(t.id)?.revision !== t.revision);
  const removed = [...before.tabs.keys()].filter((id) => !after.tabs.has(id));
  return { changed, removed };
}
