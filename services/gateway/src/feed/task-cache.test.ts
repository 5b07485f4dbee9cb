import { type Tab, TabState, type TaskProgress, type TaskStatus } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { TaskCache } from './task-cache.js';

const tab = (id: string, revision: number, state: Tab['state'] = TabState.PendingProvision): Tab =>
  ({ id, revision, state, org: 'o', task: 't' }) as Tab;
const status = (revision: number): TaskStatus => ({ revision, state: 'provisioning' }) as TaskStatus;
const progress = (revision: number, text = 'Starting agent'): TaskProgress => ({
  value: { v: 1, org: 'o', task: 't', generation: 1, step: 'starting_agent', progress: text, updatedAt: 'now' },
  revision,
});
const shown = (tabs: Tab[]) => tabs.map((t) => [t.id, t.revision, t.state, t.progress ?? null]);

describe('TaskCache', () => {
  it('applies only buffered changes newer than what the KV read saw', () => {
    const cache = new TaskCache('o', 't', 16);
    // The watch delivers these while the read is in flight.
    expect(cache.onTabChange({ tab: 'A', revision: 5, value: tab('A', 5) })).toBeNull();
    expect(cache.onTabChange({ tab: 'A', revision: 7, value: tab('A', 7, TabState.Ready) })).toBeNull();
    expect(cache.onTabChange({ tab: 'B', revision: 8, value: tab('B', 8) })).toBeNull();
    // The read saw A at 6 (between the two buffered changes).
    expect(cache.seed([tab('A', 6)], status(1), null)).toBe(6);
    cache.finishLoad(8);
    expect(cache.openTabs().map((t) => [t.id, t.revision, t.state])).toEqual([
      ['A', 7, 'ready'],
      ['B', 8, 'pending_provision'],
    ]);
    expect(cache.ring.floor).toBe(8);
  });

  it('publishes a change once, drops closed tabs from the open list but still returns their frame', () => {
    const cache = new TaskCache('o', 't', 16);
    cache.seed([tab('A', 3)], status(0), null);
    cache.finishLoad(3);
    expect(cache.onTabChange({ tab: 'A', revision: 3, value: tab('A', 3) })).toBeNull();
    const closed = cache.onTabChange({ tab: 'A', revision: 9, value: tab('A', 9, TabState.Closed) });
    expect(closed?.state).toBe('closed');
    expect(cache.openTabs()).toEqual([]);
  });

  it('never lets a stale put bring back a deleted tab', () => {
    const cache = new TaskCache('o', 't', 16);
    cache.seed([tab('A', 3)], status(0), null);
    cache.finishLoad(3);
    expect(cache.onTabChange({ tab: 'A', revision: 4, value: null })).toBeNull();
    expect(cache.onTabChange({ tab: 'A', revision: 4, value: tab('A', 4) })).toBeNull();
    expect(cache.openTabs()).toEqual([]);
  });

  it('keeps the newest task status, buffered or live', () => {
    const cache = new TaskCache('o', 't', 16);
    cache.onTaskChange(status(5));
    cache.onTaskChange(status(4));
    cache.seed([], status(3), null);
    cache.finishLoad(0);
    expect(cache.status.revision).toBe(5);
    expect(cache.onTaskChange(status(5))).toBeNull();
    expect(cache.onTaskChange(status(6))?.revision).toBe(6);
  });

  it("shows a progress entry on the tabs waiting for provisioning, at the entry's revision", () => {
    const cache = new TaskCache('o', 't', 16);
    cache.seed([tab('A', 3), tab('B', 4, TabState.PendingSessionCreate)], status(0), null);
    cache.finishLoad(4);
    expect(shown(cache.onProgressChange(progress(5), 5))).toEqual([['A', 5, 'pending_provision', 'Starting agent']]);
    // Not newer: nothing to publish.
    expect(cache.onProgressChange(progress(5), 5)).toEqual([]);
    // A tab written after the entry shows what it was written with.
    const moved = cache.onTabChange({ tab: 'A', revision: 6, value: tab('A', 6, TabState.PendingSessionCreate) });
    expect(moved?.revision).toBe(6);
    expect(cache.onProgressChange(progress(7, 'Queued'), 7)).toEqual([]);
    expect(shown(cache.openTabs())).toEqual([
      ['A', 6, 'pending_session_create', null],
      ['B', 4, 'pending_session_create', null],
    ]);
  });

  it('composes a load in bucket order: a tab write the read missed wins over an older entry', () => {
    const cache = new TaskCache('o', 't', 16);
    // The watch delivers A's move (6) and then a new step (7) while the read is in flight.
    cache.onTabChange({ tab: 'A', revision: 6, value: tab('A', 6, TabState.PendingSessionCreate) });
    cache.onProgressChange(progress(7), 7);
    // The read saw A before its move, and the entry at 7.
    expect(cache.seed([tab('A', 3), tab('B', 5)], status(0), progress(7))).toBe(7);
    cache.finishLoad(7);
    expect(shown(cache.openTabs())).toEqual([
      ['A', 6, 'pending_session_create', null],
      ['B', 7, 'pending_provision', 'Starting agent'],
    ]);
  });
});
