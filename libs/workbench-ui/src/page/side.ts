import type { Refresh, TaskView } from '@tabmesh/client';
import { stepLabel } from '@tabmesh/contracts';
import { h, timeOf } from './dom.js';
import { stateWords, tabTitle, taskStateText } from './labels.js';

/** The task card: provisioning state, sandbox and the revision the view reflects. */
export function renderTaskFacts(dl: HTMLElement, view: TaskView | null): void {
  const status = view?.status ?? null;
  const row = (label: string, value: Node | string, testid?: string) => [
    h('dt', {}, label),
    h('dd', { 'data-testid': testid }, value),
  ];
  dl.replaceChildren(
    ...row('State', h('span', { className: `pill ${status?.state ?? ''}` }, status?.state ?? 'loading…'), 'task-state'),
    ...row('Step', status?.progress ?? (status?.step ? stepLabel[status.step] : '—'), 'task-step'),
    ...row('Sandbox', h('span', { className: 'mono' }, status?.sandbox?.id ?? '—')),
    ...row('Generation', String(status?.generation ?? '—')),
    ...row('Open tabs', String(view?.tabs.size ?? 0)),
    ...row('Revision', h('span', { className: 'mono' }, String(view?.revision ?? '—')), 'revision'),
    ...(status?.error ? row('Error', status.error.message) : []),
  );
}

/** One line per refresh the client delivered: the structured reason, made visible. */
export function describeRefresh(refresh: Refresh, view: TaskView): string {
  switch (refresh.reason) {
    case 'bootstrap':
      return `snapshot · ${view.tabs.size} open tab${view.tabs.size === 1 ? '' : 's'}`;
    case 'event':
      return refresh.frame === 'tab'
        ? `${tabTitle(refresh.tab)} → ${stateWords[refresh.tab.state]}`
        : `task → ${taskStateText(refresh.task)}`;
    case 'reconnect': {
      const n = refresh.tabs.length;
      return refresh.mode === 'replay'
        ? `resumed from ${refresh.sinceRevision} · ${n} missed change${n === 1 ? '' : 's'}`
        : `resynced · ${n} changed, ${refresh.removed.length} gone`;
    }
  }
}

export function pushActivity(list: HTMLElement, refresh: Refresh, view: TaskView, max = 12): void {
  const item = h(
    'li',
    { 'data-reason': refresh.reason },
    h('time', {}, timeOf(new Date().toISOString())),
    h('span', { className: `reason ${refresh.reason}` }, refresh.reason),
    h('span', { className: 'what' }, describeRefresh(refresh, view)),
  );
  list.prepend(item);
  while (list.children.length > max) list.lastElementChild?.remove();
}
