import type { NatsConnection } from '@nats-io/transport-node';
import {
  decode,
  encode,
  parseTabKey,
  type SandboxRef,
  type SandboxView,
  Subjects,
  type Tab,
  type TabCreateRequest,
  TabCreateRequestSchema,
  type TabRecord,
  TabRefRequestSchema,
  type TabReply,
  TabReplySchema,
  TabState,
} from '@tabmesh/contracts';
import { type Bus, SandboxSecrets, TabStore, TaskStore } from '@tabmesh/runtime';
import { testAuthHeader } from '../test-token.js';
import { waitFor } from '../wait.js';

export type CreateOutcome = { ok: true; tab: Tab; created: boolean } | { ok: false; error: string };

const terminal: readonly string[] = [TabState.Ready, TabState.Error, TabState.Closed];

/**
 * What a test does to a running mesh from outside: `tab.*` requests on the bus as the gateway
 * sends them, and the truth read back from KV.
 */
export class BusOps {
  readonly tabs: TabStore;
  readonly tasks: TaskStore;

  constructor(
    readonly nc: NatsConnection,
    readonly bus: Bus,
  ) {
    this.tabs = new TabStore(bus.tabs);
    this.tasks = new TaskStore(bus.tasks);
    // What is stored now, never a credential seen earlier: tests ask about sandboxes the mesh removed.
    this.secrets = new SandboxSecrets(bus.sandboxSecrets, null);
  }

  private readonly secrets: SandboxSecrets;

  /** A recorded sandbox with its credential (from `sandbox-secrets`), to ask a provider about it. */
  reach(sandbox: SandboxView): Promise<SandboxRef> {
    return this.secrets.reach(sandbox);
  }

  /** Sends any `tab.*` payload (valid or not) and decodes the reply. */
  async request(subject: string, payload: unknown, timeoutMs = 10_000): Promise<TabReply> {
    const reply = await this.nc.request(subject, new TextEncoder().encode(JSON.stringify(payload)), {
      timeout: timeoutMs,
    });
    return decode(TabReplySchema, reply.data, 'reply');
  }

  /** `tab.create`; a refusal throws. */
  async create(org: string, task: string, extra: Partial<TabCreateRequest> = {}): Promise<Tab> {
    const outcome = await this.tryCreate(org, task, extra, 10_000);
    if (!outcome.ok) throw new Error(`create failed: ${outcome.error}`);
    return outcome.tab;
  }

  /** `tab.create` where failing is part of the test: a refusal, a timeout or no responder is `{ok:false}`. */
  async tryCreate(
    org: string,
    task: string,
    extra: Partial<TabCreateRequest> = {},
    timeoutMs = 5000,
  ): Promise<CreateOutcome> {
    const payload = encode(TabCreateRequestSchema, { v: 1, org, task, ...extra }, 'create');
    try {
      const reply = decode(
        TabReplySchema,
        (await this.nc.request(Subjects.tabCreate, payload, { timeout: timeoutMs })).data,
        'reply',
      );
      if (!reply.ok) return { ok: false, error: `${reply.error.code}: ${reply.error.message}` };
      return { ok: true, tab: reply.tab, created: reply.created };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Creates with a clientRequestId, retrying the same id until a reply says ok. */
  async createWithRetry(
    org: string,
    task: string,
    clientRequestId: string,
    opts: { attempts?: number; timeoutMs?: number; pauseMs?: number } = {},
  ): Promise<{ first: CreateOutcome; final: CreateOutcome; attempts: number }> {
    const attempts = opts.attempts ?? 20;
    let first: CreateOutcome | null = null;
    let last: CreateOutcome = { ok: false, error: 'not tried' };
    for (let i = 1; i <= attempts; i++) {
      last = await this.tryCreate(org, task, { clientRequestId }, opts.timeoutMs ?? 3000);
      first ??= last;
      if (last.ok) return { first, final: last, attempts: i };
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 250));
    }
    // With no attempt made, the first outcome is the same `not tried` as the last.
    return { first: first ?? last, final: last, attempts };
  }

  /** `POST` a tab through a gateway's HTTP API; any non-2xx, or no answer, is `{ok:false}`. */
  async httpCreate(
    baseUrl: string,
    org: string,
    task: string,
    clientRequestId: string,
    timeoutMs = 8000,
  ): Promise<CreateOutcome> {
    try {
      const res = await fetch(`${baseUrl}/v1/orgs/${org}/tasks/${task}/tabs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...testAuthHeader() },
        body: JSON.stringify({ clientRequestId }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.json()) as { tab?: Tab; code?: string; detail?: string };
      if (res.status === 201 || res.status === 200) {
        if (!body.tab) return { ok: false, error: `${res.status} reply without a tab` };
        return { ok: true, tab: body.tab, created: res.status === 201 };
      }
      return { ok: false, error: `${res.status} ${body.code ?? ''} ${body.detail ?? ''}` };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async tabOp(subject: string, org: string, task: string, tab: string, timeoutMs = 10_000): Promise<TabReply> {
    const payload = encode(TabRefRequestSchema, { v: 1, org, task, tab }, subject);
    return decode(TabReplySchema, (await this.nc.request(subject, payload, { timeout: timeoutMs })).data, 'reply');
  }

  /** The tab as clients see it: its record, composed with its task's progress while it waits for a sandbox. */
  async tab(org: string, task: string, id: string): Promise<Tab | null> {
    const found = await this.tabs.getTab(org, task, id);
    return found ? ((await this.tabs.views(org, task, [found]))[0] ?? null) : null;
  }

  /** Every tab in the bucket (optionally of one org). */
  async allTabs(org?: string): Promise<TabRecord[]> {
    const keys = (await this.tabs.keys(org ? `${org}.>` : '>')).filter((k) => parseTabKey(k));
    const out: TabRecord[] = [];
    for (let i = 0; i < keys.length; i += 200) {
      const got = await Promise.all(keys.slice(i, i + 200).map((k) => this.tabs.get(k)));
      for (const g of got) if (g) out.push(g.value);
    }
    return out;
  }

  /** Waits until the tab is in one of `states`. */
  async waitForState(org: string, task: string, id: string, states: string[], timeoutMs = 30_000): Promise<TabRecord> {
    return waitFor(
      `tab ${id} to reach ${states.join('|')}`,
      async () => {
        const t = await this.tab(org, task, id);
        return t && states.includes(t.state) ? t : undefined;
      },
      timeoutMs,
      50,
    );
  }

  /** Waits until every tab of `org` is ready, error or closed; returns them. */
  async waitAllTerminal(org: string, timeoutMs = 60_000): Promise<TabRecord[]> {
    return waitFor(
      `every tab of ${org} to be terminal`,
      async () => {
        const all = await this.allTabs(org);
        return all.every((t) => terminal.includes(t.state)) ? all : undefined;
      },
      timeoutMs,
      250,
    );
  }

  /** Consumer state of a stream's durable: jobs handed out but not acked, and jobs not yet handed out. */
  async consumer(stream: string, name: string): Promise<{ ackPending: number; pending: number; redelivered: number }> {
    const info = await this.bus.jsm.consumers.info(stream, name);
    return { ackPending: info.num_ack_pending, pending: info.num_pending, redelivered: info.num_redelivered };
  }
}
