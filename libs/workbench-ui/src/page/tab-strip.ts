import type { Tab } from '@tabmesh/contracts';
import { h } from './dom.js';
import { badgeText, lookOf, tabTitle } from './labels.js';

export type StripProps = {
  tabs: Tab[];
  selectedId: string | null;
  /** The tab that holds the roving tabindex (the focused one, else the selected one). */
  rovingId: string | null;
  onSelect: (id: string) => void;
  onClose: (id: string) => void;
};

export const tabDomId = (id: string): string => `tab-${id}`;

/**
 * The tab strip, with WAI-ARIA tablist semantics: one tab in the Tab order (roving tabindex),
 * arrows move between tabs, Enter/Space select, Delete closes (keys are handled by the app).
 */
export function renderStrip(list: HTMLElement, props: StripProps): void {
  const items = props.tabs.map((tab) => {
    const look = lookOf(tab);
    const selected = tab.id === props.selectedId;
    const title = tabTitle(tab);
    const label = `${title}, ${badgeText[look].toLowerCase()}${tab.unread ? ', unread' : ''}`;
    return h(
      'div',
      {
        className: `tab-item ${look}${selected ? ' selected' : ''}`,
        role: 'presentation',
        'data-tab-id': tab.id,
        'data-state': tab.state,
      },
      h(
        'button',
        {
          type: 'button',
          className: 'tab',
          role: 'tab',
          id: tabDomId(tab.id),
          'aria-selected': String(selected),
          'aria-controls': selected ? 'panel' : null,
          'aria-label': label,
          tabindex: tab.id === props.rovingId ? 0 : -1,
          'data-tab-id': tab.id,
          onclick: () => props.onSelect(tab.id),
        },
        h('span', { className: `state-icon ${look}`, 'aria-hidden': 'true' }),
        h('span', { className: 'tab-title' }, title),
        tab.unread ? h('span', { className: 'unread-dot', 'aria-hidden': 'true', title: 'Unread' }) : null,
      ),
      h(
        'button',
        {
          type: 'button',
          className: 'tab-close',
          'aria-label': `Close ${title}`,
          title: 'Close tab (Delete)',
          // Only the selected tab's close button is in the Tab order; Delete closes any focused tab.
          tabindex: selected ? 0 : -1,
          onclick: (e: Event) => {
            e.stopPropagation();
            props.onClose(tab.id);
          },
        },
        '×',
      ),
    );
  });
  list.replaceChildren(...items);
}
