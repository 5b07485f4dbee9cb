import type { SnapshotFrame, Tab, TaskStatus } from '@tabmesh/contracts';
import { tabRecord, taskRecord } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { applySnapshot, applyTab, applyTask, diffViews, emptyView, orderedTabs } from './task-view.js';

const now = '2025-01-01T00:00:00.000Z';
const tab = (id: string, revision: number, over: Partial<Tab> = {}): Tab => ({
  ...tabRecord('o', 't', { id: id.padEnd(26, '0'), title: '', progress: null, createdAt: now, updatedAt: now }),
  revision,
  ...over,
});
const status = (revision: number, over: Partial<TaskStatus> = {}): TaskStatus => ({
  ...taskRecord('o', 't', { progress: null, updatedAt: now }),
  revision,
  ...over,
});
const snapshot = (tabs: Tab[], revision: number, taskStatus = status(1)): SnapshotFrame => ({
  v: 1,
  type: 'snapshot',
  org: 'o',
  task: 't',
  tabs,
  taskStatus,
  revision,
});

describe('task view', () => {
  it('starts empty and not bootstrapped, then takes a snapshot whole', () => {
    const empty = emptyView('o', 't');
    expect(empty.bootstrapped).toBe(false);
    const view = applySnapshot(empty, snapshot([tab('B', 5), tab('A', 3)], 9));
    expect(view.bootstrapped).toBe(true);
    expect(view.revision).toBe(9);
    expect(orderedTabs(view).map((t) => t.id[0])).toEqual(['A', 'B']);
    expect(view.status?.state).toBe('provisioning');
  });

  it('applies newer tab revisions and ignores duplicates and stale ones', () => {
    let view = applySnapshot(emptyView('o', 't'), snapshot([tab('A', 3)], 3));
    const next = applyTab(view, tab('A', 4, { state: 'pending_session_create' }));
    expect(next.applied).toBe(true);
    view = next.view;
    expect(applyTab(view, tab('A', 4, { state: 'pending_session_create' }))).toEqual({ view, applied: false });
    expect(applyTab(view, tab('A', 2, { state: 'error' }))).toEqual({ view, applied: false });
    expect(view.tabs.get(tab('A', 0).id)?.state).toBe('pending_session_create');
    expect(view.revision).toBe(4);
  });

  it('removes a closed tab and never lets an older frame bring it back', () => {
    let view = applySnapshot(emptyView('o', 't'), snapshot([tab('A', 3)], 3));
    view = applyTab(view, tab('A', 6, { state: 'closed' })).view;
    expect(view.tabs.size).toBe(0);
    expect(applyTab(view, tab('A', 5, { state: 'ready' })).applied).toBe(false);
    expect(view.revision).toBe(6);
  });

  it('ignores frames of another task', () => {
    const view = emptyView('o', 't');
    expect(applyTab(view, tab('A', 1, { task: 'other' })).applied).toBe(false);
    expect(applyTask(view, status(1, { org: 'x' })).applied).toBe(false);
  });

  it('keeps the newest task status; a resent one changes nothing', () => {
    let view = applySnapshot(emptyView('o', 't'), snapshot([], 1, status(4)));
    expect(applyTask(view, status(4)).applied).toBe(false);
    expect(applyTask(view, status(3, { state: 'error' })).applied).toBe(false);
    view = applyTask(view, status(5, { state: 'provisioned' })).view;
    expect(view.status?.state).toBe('provisioned');
  });

  it('a snapshot drops tabs it does not list and forgets tombstones', () => {
    let view = applySnapshot(emptyView('o', 't'), snapshot([tab('A', 1), tab('B', 2)], 2));
    view = applyTab(view, tab('C', 3, { state: 'closed' })).view;
    const after = applySnapshot(view, snapshot([tab('B', 7, { state: 'ready' }), tab('D', 8)], 9));
    expect(diffViews(view, after)).toEqual({
      changed: [after.tabs.get(tab('B', 0).id), after.tabs.get(tab('D', 0).id)],
      removed: [tab('A', 0).id],
    });
    expect(after.closed.size).toBe(0);
  });
});
