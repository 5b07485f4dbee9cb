import { describe, expect, it } from 'vitest';
import { type Tab, TabState } from './tab.js';
import { newTab } from './tab-machine.js';
import { composeTabView, nextTaskProgress, type TaskProgress, TaskProgressRecordSchema } from './task-progress.js';

const now = '2030-01-02T03:04:05.000Z';
const where = { org: 'o', task: 't', generation: 2 };

function tabIn(state: Tab['state'], revision: number): Tab {
  const fields = { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', org: 'o', task: 't', title: 'a tab', agent: 'mock' };
  const tab = newTab({ ...fields, model: null, clientRequestId: null }, null, '2030-01-01T00:00:00.000Z');
  return { ...tab, state, revision };
}

const progressAt = (revision: number, task = 't'): TaskProgress => ({
  value: { v: 1, org: 'o', task, generation: 2, step: 'starting_agent', progress: 'Starting agent', updatedAt: now },
  revision,
});

describe('nextTaskProgress', () => {
  it('writes a new step of the generation, valid against its schema', () => {
    const next = nextTaskProgress(null, where, 'creating_sandbox', undefined, false, now);
    expect(next).toEqual({
      v: 1,
      org: 'o',
      task: 't',
      generation: 2,
      step: 'creating_sandbox',
      progress: 'Creating sandbox',
      updatedAt: now,
    });
    expect(() => TaskProgressRecordSchema.parse(next)).not.toThrow();
  });

  it('writes nothing for the same step again, unless asked to repeat it', () => {
    const cur = nextTaskProgress(null, where, 'queued', 'sandbox limit 2 reached', false, now);
    expect(nextTaskProgress(cur, where, 'queued', 'sandbox limit 2 reached', false, now)).toBeNull();
    const later = '2030-01-02T03:05:00.000Z';
    expect(nextTaskProgress(cur, where, 'queued', 'sandbox limit 2 reached', true, later)?.updatedAt).toBe(later);
  });

  it('never lets an older generation overwrite a newer one, and lets a newer one in', () => {
    const newer = nextTaskProgress(null, { ...where, generation: 3 }, 'queued', undefined, false, now);
    expect(nextTaskProgress(newer, where, 'starting_agent', undefined, true, now)).toBeNull();
    const older = nextTaskProgress(null, { ...where, generation: 1 }, 'starting_agent', undefined, false, now);
    expect(nextTaskProgress(older, where, 'starting_agent', undefined, false, now)?.generation).toBe(2);
  });
});

describe('composeTabView', () => {
  it('shows a later step on a waiting tab, at the step revision', () => {
    const tab = tabIn(TabState.PendingProvision, 10);
    expect(composeTabView(tab, progressAt(12))).toEqual({
      ...tab,
      step: 'starting_agent',
      progress: 'Starting agent',
      updatedAt: now,
      revision: 12,
    });
  });

  it('keeps the tab as written when it was written after the step', () => {
    const tab = tabIn(TabState.PendingProvision, 12);
    expect(composeTabView(tab, progressAt(11))).toBe(tab);
    expect(composeTabView(tab, null)).toBe(tab);
  });

  it.each([TabState.PendingSessionCreate, TabState.Ready, TabState.Error, TabState.Closed])(
    'leaves a %s tab alone',
    (state) => {
      const tab = tabIn(state, 10);
      expect(composeTabView(tab, progressAt(12))).toBe(tab);
    },
  );

  it('ignores the progress of another task', () => {
    const tab = tabIn(TabState.PendingProvision, 10);
    expect(composeTabView(tab, progressAt(12, 'other'))).toBe(tab);
  });
});
