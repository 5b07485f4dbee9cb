import { isPendingState, Step, stepLabel, type Tab, TabState, type TaskStatus } from '@tabmesh/contracts';

export type Look = 'pending' | 'ready' | 'error';

export function lookOf(tab: Tab): Look {
  if (isPendingState(tab.state)) return 'pending';
  return tab.state === TabState.Error ? 'error' : 'ready';
}

export const badgeText: Record<Look, string> = { pending: 'Preparing', ready: 'Ready', error: 'Failed' };

/** How a state reads in sentences ("Alpha → creating session"). */
export const stateWords: Record<TabState, string> = {
  pending_provision: 'waiting for sandbox',
  pending_session_create: 'creating session',
  ready: 'ready',
  error: 'failed',
  closed: 'closed',
};

export function tabTitle(tab: Tab): string {
  return tab.title.trim() || `Untitled ${tab.agent} tab`;
}

/** The steps a pending tab walks through, in the shared vocabulary of libs/contracts. */
export const PendingSteps = [Step.Queued, Step.CreatingSandbox, Step.StartingAgent, Step.CreatingSession] as const;
type PendingStep = (typeof PendingSteps)[number];

const isPendingStep = (s: string | null | undefined): s is PendingStep =>
  s !== null && s !== undefined && (PendingSteps as readonly string[]).includes(s);

/**
 * Where a pending tab is, and the text to show. A `pending_provision` tab waits on its task, so the
 * task's step (creating sandbox, starting agent) is the more precise one while it provisions.
 */
export function pendingProgress(tab: Tab, status: TaskStatus | null): { step: PendingStep; text: string } {
  if (tab.state === TabState.PendingSessionCreate) {
    return { step: Step.CreatingSession, text: tab.progress ?? stepLabel[Step.CreatingSession] };
  }
  const taskStep = status?.state === 'provisioning' && isPendingStep(status.step) ? status.step : null;
  const tabStep = isPendingStep(tab.step) ? tab.step : Step.Queued;
  if (taskStep && PendingSteps.indexOf(taskStep) > PendingSteps.indexOf(tabStep)) {
    return { step: taskStep, text: status?.progress ?? stepLabel[taskStep] };
  }
  return { step: tabStep, text: tab.progress ?? stepLabel[tabStep] };
}

export function taskStateText(status: TaskStatus | null): string {
  if (!status) return 'loading…';
  const step = status.step && status.state === 'provisioning' ? ` · ${stepLabel[status.step]}` : '';
  return `${status.state}${step}`;
}
