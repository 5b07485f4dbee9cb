import * as z from 'zod';
import { clipText } from './errors.js';

/**
 * One vocabulary of steps for every provider, so a UI can say what a pending tab waits for.
 */
export const Step = {
  Queued: 'queued',
  CreatingSandbox: 'creating_sandbox',
  StartingAgent: 'starting_agent',
  CreatingSession: 'creating_session',
  Ready: 'ready',
  Error: 'error',
} as const;
export type Step = (typeof Step)[keyof typeof Step];
export const StepSchema = z.enum(Object.values(Step) as [Step, ...Step[]]);

export const stepLabel: Record<Step, string> = {
  queued: 'Queued',
  creating_sandbox: 'Creating sandbox',
  starting_agent: 'Starting agent',
  creating_session: 'Creating session',
  ready: 'Ready',
  error: 'Failed',
};

/** What a pending tab shows while it waits on this step. */
export function progressText(step: Step, detail?: string): string {
  return detail ? clipText(`${stepLabel[step]} (${detail})`, MaxProgressLength) : stepLabel[step];
}

/** The detail of a provisioning that waits for a free sandbox slot (TABMESH_MAX_SANDBOXES). */
export const sandboxLimitDetail = (cap: number): string => `sandbox limit ${cap} reached`;

/** Whether a progress text says its provisioning waits for a sandbox slot (see sandboxLimitDetail). */
export const waitsForSandboxSlot = (progress: string | null | undefined): boolean =>
  progress != null && /\(sandbox limit \d+ reached\)$/.test(progress);

/** The detail of a tab or task whose sandbox died or was reaped: it waits for a new one. */
export const SandboxLostDetail = 'sandbox lost, provisioning a new one';

/** Longest progress text a tab or task stores (the detail may come from a provider). */
export const MaxProgressLength = 256;
