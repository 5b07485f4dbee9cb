import {
  type ConnectionStateEvent,
  ErrorCode,
  orderedTabs,
  type Refresh,
  TabmeshClient,
  type TabmeshConnection,
  TabmeshError,
  TabmeshHttpError,
  type TaskSubscription,
  type TaskView,
} from '@tabmesh/client';
import { ResourceIdSchema } from '@tabmesh/contracts';
import { AccessNotice, type AccessProblem, problemOf } from './access-notice.js';
import { ConnectionPill } from './connection-pill.js';
import { byId, h } from './dom.js';
import { Drafts } from './drafts.js';
import { pushActivity, renderTaskFacts } from './side.js';
import { renderPanel } from './tab-panel.js';
import { renderStrip, tabDomId } from './tab-strip.js';
import type { TokenStore } from './token-store.js';

export type AppDeps = { http: TabmeshClient; conn: TabmeshConnection; tokens: TokenStore };

/**
 * The workbench: one task at a time, its tabs live over the shared connection. State lives in the
 * client's TaskView; the page keeps only UI state (selection, drafts, in-flight actions).
 */
export class WorkbenchApp {
  private org = '';
  private task = '';
  private sub: TaskSubscription | null = null;
  private view: TaskView | null = null;
  private selectedId: string | null = null;
  /** A tab just created over HTTP whose first frame has not arrived yet. */
  private awaiting: string | null = null;
  private lastOrder: string[] = [];
  private readonly busy = new Set<string>();
  /** Tab id → revision a markRead was sent for, so each unread state is read once. */
  private readonly reading = new Map<string, number>();
  private panelKey = '';
  private readonly drafts = new Drafts(() => `${this.org}.${this.task}`);
  private readonly access: AccessNotice;
  private readonly els = {
    taskForm: byId<HTMLFormElement>('task-form'),
    orgInput: byId<HTMLInputElement>('org-input'),
    taskInput: byId<HTMLInputElement>('task-input'),
    taskError: byId('task-error'),
    tablist: byId('tablist'),
    panelHost: byId('panel-host'),
    notice: byId('notice'),
    noticeText: byId('notice-text'),
    newForm: byId<HTMLFormElement>('new-tab-form'),
    newTitle: byId<HTMLInputElement>('new-title'),
    newAgent: byId<HTMLSelectElement>('new-agent'),
    newModel: byId<HTMLInputElement>('new-model'),
    createButton: byId<HTMLButtonElement>('create-tab'),
    taskFacts: byId('task-facts'),
    activity: byId('activity'),
  };

  constructor(private readonly deps: AppDeps) {
    const pill = new ConnectionPill(byId('conn'), byId('conn-label'), byId<HTMLButtonElement>('conn-retry'), () =>
      deps.conn.reconnectNow(),
    );
    pill.show(deps.conn.state);
    this.access = new AccessNotice(() => this.retryAccess());
    deps.conn.on('state', (s) => {
      pill.show(s);
      this.onConnectionState(s);
    });
    deps.conn.on('serverError', (e) => {
      // The page has one subscription, so a refused subscribe is the open task's.
      if (e.code === ErrorCode.Forbidden) this.setAccess({ kind: 'forbidden', org: this.org });
      else this.notify(`Gateway: ${e.detail} (${e.code})`);
    });
    this.els.taskForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.openTask(this.els.orgInput.value.trim(), this.els.taskInput.value.trim());
    });
    this.els.newForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.createTab();
    });
    byId('quick-new').addEventListener('click', () => void this.createTab());
    byId('notice-dismiss').addEventListener('click', () => (this.els.notice.hidden = true));
    this.els.tablist.addEventListener('keydown', (e) => this.onTabKey(e));
    document.addEventListener('visibilitychange', () => this.markSelectedRead());
  }

  /** Subscribes to a task (and drops the previous one); invalid ids are flagged on the form. */
  openTask(org: string, task: string): void {
    const orgOk = ResourceIdSchema.safeParse(org).success;
    const taskOk = ResourceIdSchema.safeParse(task).success;
    this.els.orgInput.setAttribute('aria-invalid', String(!orgOk));
    this.els.taskInput.setAttribute('aria-invalid', String(!taskOk));
    if (!orgOk || !taskOk) {
      this.els.taskError.textContent = 'Use 1-64 letters, digits, "_" or "-".';
      return;
    }
    this.els.taskError.textContent = '';
    this.els.orgInput.value = org;
    this.els.taskInput.value = task;
    if (org === this.org && task === this.task && this.sub) return;
    if (this.access.current?.kind === 'forbidden') this.setAccess(null);
    this.sub?.unsubscribe();
    this.org = org;
    this.task = task;
    this.view = null;
    this.selectedId = null;
    this.awaiting = null;
    this.lastOrder = [];
    this.panelKey = '';
    this.els.activity.replaceChildren();
    const url = new URL(location.href);
    url.searchParams.set('org', org);
    url.searchParams.set('task', task);
    history.replaceState(null, '', url);
    document.title = `${org}/${task} · tabmesh workbench`;
    this.sub = this.deps.conn.subscribe(org, task, (view, refresh) => this.onRefresh(view, refresh));
    this.render();
  }

  /**
   * Asks the gateway, over HTTP, whether it accepts `token`: the connection's check after a failed
   * upgrade, since a browser's WebSocket reports a refused upgrade like an unreachable gateway.
   * False only for a 401; null when the gateway cannot be reached either.
   */
  async verifyToken(token: string | null): Promise<boolean | null> {
    const probe = new TabmeshClient({ baseUrl: location.origin, token: token ?? undefined });
    try {
      await probe.getTask(this.org || 'acme', this.task || 'demo');
      return true;
    } catch (err) {
      // Unreachable too (NetworkError), or a reply it cannot read: no verdict.
      return err instanceof TabmeshHttpError ? err.code !== ErrorCode.Unauthenticated : null;
    }
  }

  /** A new token arrived (the page's link opened again): drop a sign-in notice. */
  signedIn(): void {
    if (this.access.current && this.access.current.kind !== 'forbidden') this.setAccess(null);
  }

  private onConnectionState(s: ConnectionStateEvent): void {
    if (s.state === 'unauthenticated' && s.auth) this.setAccess(problemOf(this.deps.tokens.get(), s.auth));
    else if (s.state === 'open' && this.access.current && this.access.current.kind !== 'forbidden')
      this.setAccess(null);
  }

  private retryAccess(): void {
    if (this.access.current?.kind === 'forbidden') {
      // Subscribe again: the token may have been replaced meanwhile.
      const { org, task } = this;
      this.sub?.unsubscribe();
      this.sub = null;
      this.setAccess(null);
      this.openTask(org, task);
      return;
    }
    this.deps.conn.reconnectNow();
  }

  private setAccess(problem: AccessProblem | null): void {
    this.access.show(problem, this.org);
    const blocked = problem !== null;
    this.els.createButton.disabled = blocked;
    byId<HTMLButtonElement>('quick-new').disabled = blocked;
  }

  private onRefresh(view: TaskView, refresh: Refresh): void {
    // A snapshot came: the token covers this org after all (a retry with a new token).
    if (this.access.current?.kind === 'forbidden') this.setAccess(null);
    this.view = view;
    pushActivity(this.els.activity, refresh, view);
    this.render();
  }

  private render(): void {
    const view = this.view;
    const tabs = view ? orderedTabs(view) : [];
    const ids = tabs.map((t) => t.id);
    if (this.awaiting && ids.includes(this.awaiting)) this.awaiting = null;
    if (this.selectedId && !ids.includes(this.selectedId) && this.selectedId !== this.awaiting) {
      // The selected tab left (closed here or elsewhere): select its neighbour.
      const at = Math.max(0, this.lastOrder.indexOf(this.selectedId));
      this.selectedId = ids[Math.min(at, ids.length - 1)] ?? null;
    }
    const first = ids[0];
    if (!this.selectedId && first !== undefined && !this.awaiting) this.selectedId = first;
    this.lastOrder = ids;

    const active = document.activeElement as HTMLElement | null;
    const stripFocus = active?.getAttribute('role') === 'tab' ? (active.dataset.tabId ?? null) : null;
    const stripHadFocus = active !== null && this.els.tablist.contains(active);
    const rovingId = stripFocus && ids.includes(stripFocus) ? stripFocus : this.selectedId;
    renderStrip(this.els.tablist, {
      tabs,
      selectedId: this.selectedId,
      rovingId,
      onSelect: (id) => this.select(id),
      onClose: (id) => void this.closeTab(id),
    });
    if (stripHadFocus && rovingId) this.focusTab(rovingId);

    renderTaskFacts(this.els.taskFacts, view);
    this.renderPanel();
    this.markSelectedRead();
  }

  private renderPanel(): void {
    const view = this.view;
    const tab = view && this.selectedId ? view.tabs.get(this.selectedId) : undefined;
    const key = tab
      ? `${tab.id}:${tab.revision}:${view?.status?.revision}:${this.busy.has(tab.id)}`
      : `${view?.bootstrapped ?? 'none'}:${view?.tabs.size ?? 0}:${this.awaiting}`;
    if (key === this.panelKey) return;
    this.panelKey = key;
    const active = document.activeElement as HTMLElement | null;
    const composerFocus =
      active instanceof HTMLTextAreaElement && active.dataset.tabId === tab?.id
        ? { start: active.selectionStart, end: active.selectionEnd }
        : null;

    if (!tab) {
      this.els.panelHost.replaceChildren(this.placeholder());
      return;
    }
    const id = tab.id;
    this.els.panelHost.replaceChildren(
      renderPanel({
        tab,
        status: view?.status ?? null,
        busy: this.busy.has(id),
        draft: this.drafts.get(id),
        onDraft: (text) => this.drafts.set(id, text),
        onRetry: () => void this.retryTab(id),
        onClose: () => void this.closeTab(id),
      }),
    );
    if (composerFocus) {
      const area = this.els.panelHost.querySelector<HTMLTextAreaElement>('textarea:not(:disabled)');
      area?.focus({ preventScroll: true });
      area?.setSelectionRange(composerFocus.start, composerFocus.end);
    }
  }

  private placeholder(): HTMLElement {
    if (!this.view?.bootstrapped || this.awaiting) {
      return h(
        'div',
        { className: 'empty', 'aria-busy': 'true' },
        h('p', {}, this.awaiting ? 'Opening tab…' : 'Loading task…'),
      );
    }
    return h(
      'div',
      { className: 'empty', 'data-testid': 'empty' },
      h('h2', {}, 'No open tabs'),
      h('p', {}, 'Open a tab: it appears at once, even while the sandbox is still being prepared.'),
      h('button', { type: 'button', className: 'btn primary', onclick: () => void this.createTab() }, 'Open a tab'),
    );
  }

  private select(id: string): void {
    this.selectedId = id;
    this.render();
  }

  private focusTab(id: string): void {
    document.getElementById(tabDomId(id))?.focus({ preventScroll: false });
  }

  /** Arrows move focus along the strip (manual activation); Enter/Space select (native click); Delete closes. */
  private onTabKey(e: KeyboardEvent): void {
    const tabs = Array.from(this.els.tablist.querySelectorAll<HTMLButtonElement>('[role="tab"]'));
    const at = tabs.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0 || tabs.length === 0) return;
    const move = (to: number) => {
      const target = tabs[(to + tabs.length) % tabs.length];
      if (!target) return;
      for (const t of tabs) t.tabIndex = t === target ? 0 : -1;
      target.focus();
    };
    switch (e.key) {
      case 'ArrowRight':
        move(at + 1);
        break;
      case 'ArrowLeft':
        move(at - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(tabs.length - 1);
        break;
      case 'Delete': {
        const id = tabs[at]?.dataset.tabId;
        if (id) void this.closeTab(id);
        break;
      }
      default:
        return;
    }
    e.preventDefault();
  }

  /** A selected tab that is unread, on a visible page, has been seen: tell the server once. */
  private markSelectedRead(): void {
    const tab = this.selectedId ? this.view?.tabs.get(this.selectedId) : undefined;
    if (!tab?.unread || document.visibilityState !== 'visible') return;
    if (this.reading.get(tab.id) === tab.revision) return;
    this.reading.set(tab.id, tab.revision);
    const { org, task } = this;
    this.deps.http.markRead(org, task, tab.id).catch((err: unknown) => {
      this.reading.delete(tab.id);
      this.fail('Could not mark the tab read', err);
    });
  }

  private async createTab(): Promise<void> {
    if (!this.sub || this.access.current) return;
    const { org, task } = this;
    const title = this.els.newTitle.value.trim();
    const model = this.els.newModel.value.trim();
    this.els.createButton.disabled = true;
    try {
      const { tab } = await this.deps.http.createTab(org, task, {
        agent: this.els.newAgent.value,
        ...(title ? { title } : {}),
        ...(model ? { model } : {}),
        clientRequestId: requestId(),
      });
      if (org !== this.org || task !== this.task) return;
      // Only what was sent: the tab's first frame may have come first, and a new title been typed since.
      if (this.els.newTitle.value.trim() === title) this.els.newTitle.value = '';
      this.selectedId = tab.id;
      if (!this.view?.tabs.has(tab.id)) this.awaiting = tab.id;
      this.render();
    } catch (err) {
      this.fail('Could not open a tab', err);
    } finally {
      this.els.createButton.disabled = this.access.current !== null;
    }
  }

  private async closeTab(id: string): Promise<void> {
    const stripHadFocus = this.els.tablist.contains(document.activeElement);
    await this.act(id, 'Could not close the tab', async () => {
      await this.deps.http.closeTab(this.org, this.task, id);
      this.drafts.drop(id);
    });
    if (stripHadFocus && this.selectedId) this.focusTab(this.selectedId);
  }

  private async retryTab(id: string): Promise<void> {
    await this.act(id, 'Could not retry the tab', () => this.deps.http.retryTab(this.org, this.task, id));
  }

  private async act(id: string, what: string, run: () => Promise<unknown>): Promise<void> {
    if (this.busy.has(id)) return;
    this.busy.add(id);
    this.render();
    try {
      await run();
    } catch (err) {
      this.fail(what, err);
    } finally {
      this.busy.delete(id);
      this.render();
    }
  }

  private fail(what: string, err: unknown): void {
    if (err instanceof TabmeshError && err.code === ErrorCode.Unauthenticated) {
      this.setAccess(problemOf(this.deps.tokens.get()));
      return;
    }
    if (err instanceof TabmeshError && err.code === ErrorCode.Forbidden) {
      this.setAccess({ kind: 'forbidden', org: this.org });
      return;
    }
    const detail = err instanceof TabmeshError ? `${err.message} (${err.code})` : String(err);
    this.notify(`${what}: ${detail}`);
  }

  private notify(text: string): void {
    this.els.noticeText.textContent = text;
    this.els.notice.hidden = false;
  }
}

/** An idempotency key per create, so a repeated request returns the same tab. */
function requestId(): string {
  // randomUUID needs a secure context; a page served over plain HTTP to another host has none.
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
