import { stepLabel, type Tab, TabState, type TaskStatus } from '@tabmesh/contracts';
import { h, timeOf } from './dom.js';
import { badgeText, lookOf, PendingSteps, pendingProgress, tabTitle } from './labels.js';
import { tabDomId } from './tab-strip.js';

export type PanelProps = {
  tab: Tab;
  status: TaskStatus | null;
  busy: boolean;
  draft: string;
  onDraft: (text: string) => void;
  onRetry: () => void;
  onClose: () => void;
};

/** The focused tab: what it waits for (pending), what it runs (ready), or what went wrong (error). */
export function renderPanel(props: PanelProps): HTMLElement {
  const { tab } = props;
  const look = lookOf(tab);
  const head = h(
    'header',
    { className: 'panel-head' },
    h(
      'div',
      { className: 'titles' },
      h('h2', {}, tabTitle(tab)),
      h(
        'div',
        { className: 'sub' },
        `${tab.agent} · ${tab.model ?? 'default model'} · opened ${timeOf(tab.createdAt)}`,
      ),
    ),
    h('span', { className: `badge ${look}`, 'data-testid': 'badge' }, badgeText[look]),
    h(
      'button',
      { type: 'button', className: 'btn ghost', 'data-action': 'close', disabled: props.busy, onclick: props.onClose },
      'Close tab',
    ),
  );
  const body = look === 'pending' ? pendingBody(props) : look === 'error' ? errorBody(props) : readyBody(props);
  return h(
    'section',
    {
      className: `panel ${look}`,
      id: 'panel',
      role: 'tabpanel',
      'aria-labelledby': tabDomId(tab.id),
      'data-tab-id': tab.id,
      'data-state': tab.state,
    },
    head,
    ...body,
  );
}

function pendingBody(props: PanelProps): HTMLElement[] {
  const { tab, status } = props;
  const progress = pendingProgress(tab, status);
  const current = PendingSteps.indexOf(progress.step);
  return [
    h(
      'div',
      { className: 'state-card pending' },
      h('div', { className: 'spinner', 'aria-hidden': 'true' }),
      h(
        'div',
        {},
        h('h3', {}, 'Preparing environment'),
        h('p', { className: 'step-text', 'data-testid': 'step', 'aria-live': 'polite' }, progress.text),
      ),
    ),
    h(
      'ol',
      { className: 'steps', 'aria-label': 'Progress' },
      ...PendingSteps.map((step, i) =>
        h(
          'li',
          {
            className: i < current ? 'done' : i === current ? 'current' : '',
            'aria-current': i === current ? 'step' : null,
          },
          stepLabel[step],
        ),
      ),
    ),
    composer(props, false),
  ];
}

function readyBody(props: PanelProps): HTMLElement[] {
  const { tab } = props;
  const fact = (label: string, value: string, mono = false, testid?: string) => [
    h('dt', {}, label),
    h('dd', { className: mono ? 'mono' : '', 'data-testid': testid }, value),
  ];
  return [
    h(
      'dl',
      { className: 'facts' },
      ...fact('Agent', tab.agent, false, 'agent'),
      ...fact('Model', tab.model ?? 'default', false, 'model'),
      ...fact('Session', tab.sessionId ?? '—', true, 'session'),
      ...fact('Sandbox', tab.sandboxId ?? '—', true),
      ...fact('Ready at', timeOf(tab.readyAt)),
    ),
    composer(props, true),
  ];
}

function errorBody(props: PanelProps): HTMLElement[] {
  const { tab } = props;
  const error = tab.error;
  return [
    h(
      'div',
      { className: 'state-card error', role: 'alert' },
      h('div', { className: 'err-glyph', 'aria-hidden': 'true' }, '!'),
      h(
        'div',
        {},
        h('h3', {}, 'This tab could not start'),
        h('p', { className: 'error-message', 'data-testid': 'error-message' }, error?.message ?? 'Unknown error'),
        h(
          'p',
          { className: 'code' },
          `${error?.code ?? 'error'}${error ? (error.retryable ? ' · retryable' : ' · not retryable') : ''}`,
        ),
        h(
          'div',
          { className: 'actions' },
          h(
            'button',
            {
              type: 'button',
              className: 'btn primary',
              'data-action': 'retry',
              disabled: props.busy,
              onclick: props.onRetry,
            },
            props.busy ? 'Retrying…' : 'Retry',
          ),
          h('button', { type: 'button', className: 'btn', disabled: props.busy, onclick: props.onClose }, 'Close tab'),
        ),
      ),
    ),
  ];
}

function composer(props: PanelProps, enabled: boolean): HTMLElement {
  const id = `composer-${props.tab.id}`;
  const area = h('textarea', {
    id,
    name: 'message',
    'data-testid': 'composer',
    'data-tab-id': props.tab.id,
    disabled: !enabled,
    placeholder: enabled ? `Message ${props.tab.agent}…` : 'The composer opens when the session is ready',
  });
  area.value = enabled ? props.draft : '';
  const count = h('span', {}, charCount(area.value));
  area.addEventListener('input', () => {
    props.onDraft(area.value);
    count.textContent = charCount(area.value);
  });
  return h(
    'div',
    { className: 'composer' },
    h('label', { for: id }, 'Message'),
    area,
    h(
      'div',
      { className: 'composer-foot' },
      h(
        'span',
        {},
        enabled
          ? 'Draft kept for this tab'
          : `Waiting for ${props.tab.state === TabState.PendingSessionCreate ? 'the session' : 'the sandbox'}`,
      ),
      count,
    ),
  );
}

const charCount = (text: string): string => (text ? `${text.length} characters` : '');
