import * as z from 'zod';
import { IsoTimeSchema, OrgIdSchema, TaskIdSchema } from './ids.js';
import { progressText, type Step, StepSchema } from './progress.js';
import { type Tab, TabState } from './tab.js';

/**
 * The provisioning step of a task, as its `pending_provision` tabs show it. Stored once per task in
 * bucket `tabs` under `{org}.{task}` (two tokens, so no tab key and no `{org}.{task}.*` listing
 * matches it): one write per step instead of one per waiting tab, and its revision is a `tabs`
 * revision, so the tab views composed from it keep ordering and resuming exactly as tab writes do.
 */
export const TaskProgressRecordSchema = z.object({
  v: z.literal(1),
  org: OrgIdSchema,
  task: TaskIdSchema,
  /** The provisioning generation the step belongs to. */
  generation: z.number().int().min(0),
  step: StepSchema,
  progress: z.string(),
  updatedAt: IsoTimeSchema,
});
export type TaskProgressRecord = z.infer<typeof TaskProgressRecordSchema>;

/** The key of a task's progress entry in bucket `tabs`. */
export const taskProgressKey = (org: string, task: string): string => `${org}.${task}`;

/** A progress entry with its `tabs` revision. */
export type TaskProgress = { value: TaskProgressRecord; revision: number };

/**
 * The tab as clients see it: a `pending_provision` tab written before its task's latest step shows
 * that step, at the step's revision. Every write that leaves a tab in `pending_provision` sets its
 * progress afresh, so whichever of the two was written last is what the tab waits on.
 */
export function composeTabView(tab: Tab, progress: TaskProgress | null | undefined): Tab {
  if (!progress || tab.state !== TabState.PendingProvision || progress.revision <= tab.revision) return tab;
  const p = progress.value;
  if (p.org !== tab.org || p.task !== tab.task) return tab;
  return { ...tab, step: p.step, progress: p.progress, updatedAt: p.updatedAt, revision: progress.revision };
}

/**
 * The entry after a step of provisioning `where.generation`; null when nothing would change or the
 * entry already belongs to a later generation. `repeat` writes an unchanged step again, so tabs
 * created since it was written show it too (a long wait for a sandbox slot).
 */
export function nextTaskProgress(
  current: TaskProgressRecord | null | undefined,
  where: { org: string; task: string; generation: number },
  step: Step,
  detail?: string,
  repeat = false,
  now = new Date().toISOString(),
): TaskProgressRecord | null {
  const progress = progressText(step, detail);
  if (current && current.generation > where.generation) return null;
  const same = current?.generation === where.generation && current.step === step && current.progress === progress;
  if (same && !repeat) return null;
  return { v: 1, org: where.org, task: where.task, generation: where.generation, step, progress, updatedAt: now };
}
