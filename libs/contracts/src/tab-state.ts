import { TabState } from './tab.js';

const allowed: Record<TabState, readonly TabState[]> = {
  pending_provision: ['pending_session_create', 'error', 'closed'],
  pending_session_create: ['ready', 'error', 'closed'],
  ready: ['closed'],
  error: ['pending_provision', 'pending_session_create', 'closed'],
  closed: [],
};

/** The tab state machine of DESIGN.md; `error → pending_*` is reached only through retry. */
export function canTransition(from: TabState, to: TabState): boolean {
  return allowed[from].includes(to);
}

export const isTerminal = (state: TabState): boolean => state === TabState.Closed;
