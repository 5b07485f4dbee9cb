import type { Tab, TaskStatus } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { lookOf, pendingProgress, tabTitle } from './labels.js';

const tab = (over: Partial<Tab>): Tab =>
  ({ state: 'pending_provision', step: 'queued', progress: 'Queued', title: '', agent: 'mock', ...over }) as Tab;
const task = (over: Partial<TaskStatus>): TaskStatus =>
  ({ state: 'provisioning', step: null, progress: null, ...over }) as TaskStatus;

describe('labels', () => {
  it('shows the task step while a pending_provision tab waits on it', () => {
    expect(pendingProgress(tab({}), task({ step: 'starting_agent', progress: 'Starting agent' }))).toEqual({
      step: 'starting_agent',
      text: 'Starting agent',
    });
    expect(pendingProgress(tab({ progress: 'Queued (2 ahead)' }), task({ state: 'unprovisioned' }))).toEqual({
      step: 'queued',
      text: 'Queued (2 ahead)',
    });
  });

  it('shows session creation once the tab waits for its session', () => {
    expect(
      pendingProgress(
        tab({ state: 'pending_session_create', step: 'creating_session', progress: null }),
        task({ state: 'provisioned' }),
      ),
    ).toEqual({
      step: 'creating_session',
      text: 'Creating session',
    });
  });

  it('names looks and untitled tabs', () => {
    expect(lookOf(tab({ state: 'pending_session_create' }))).toBe('pending');
    expect(lookOf(tab({ state: 'error' }))).toBe('error');
    expect(lookOf(tab({ state: 'ready' }))).toBe('ready');
    expect(tabTitle(tab({ title: '  ' }))).toBe('Untitled mock tab');
  });
});
