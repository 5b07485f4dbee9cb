import { TabState, TaskProvisioning, progressText, tabKey, taskKey, type Step as StepT } from '@tabmesh/contracts';
import { nowIso, type TabStore, type TaskStore } from '@tabmesh/runtime';

/**
 * Writes the current provisioning step to the task and to its tabs still waiting on it, so every
 * watcher sees what the tab waits for. Only the generation that owns the task writes.
 */
export async function reportStep(
  tabs: TabStore,
  tasks: TaskStore,
  where: { org: string; task: string; generation: number },
  step: StepT,
  detail?: string,
): Promise<void> {
  const progress = progressText(step, detail);
  const res = await tasks.mutate(taskKey(where.org, where.task), (cur) => {
    if (!cur || cur.value.generation !== where.generation || cur.value.state !== TaskProvisioning.Provisioning) return null;
    if (cur.value.step === step && cur.value.progress === progress) return null;
    return { ...cur.value, step, progress, updatedAt: nowIso() };
  });
  if (!res?.changed) return;
  for (const tab of await tabs.listTask(where.org, where.task)) {
    if (tab.value.state !== TabState.PendingProvision) continue;
    await tabs.mutate(tabKey(where.org, where.task, tab.value.id), (cur) =>
      cur && cur.value.state === TabState.PendingProvision && cur.value.progress !== progress
        ? { ...cur.value, step, progress, updatedAt: nowIso() }
        : null,
    );
  }
}

