import { describe, expect, it } from 'vitest';
import { canTransition } from './tab-state.js';
import { TabState } from './tab.js';

describe('tab state machine', () => {
  it('walks the happy path in order only', () => {
    expect(canTransition('pending_provision', 'pending_session_create')).toBe(true);
    expect(canTransition('pending_session_create', 'ready')).toBe(true);
    expect(canTransition('pending_provision', 'ready')).toBe(false);
    expect(canTransition('ready', 'pending_session_create')).toBe(false);
  });

  it('lets every state but closed be closed, and nothing leave closed', () => {
    for (const s of Object.values(TabState)) expect(canTransition(s, 'closed')).toBe(s !== 'closed');
    for (const s of Object.values(TabState)) expect(canTransition('closed', s)).toBe(false);
  });

  it('fails only pending tabs, and leaves error only back to a pending state', () => {
    expect(canTransition('pending_provision', 'error')).toBe(true);
    expect(canTransition('pending_session_create', 'error')).toBe(true);
    expect(canTransition('ready', 'error')).toBe(false);
    expect(canTransition('error', 'ready')).toBe(false);
    expect(canTransition('error', 'pending_provision')).toBe(true);
  });
});
