import { connect, type NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import {
  Subjects,
  TabCreateRequestSchema,
  TabRefRequestSchema,
  TabReplySchema,
  TabState,
  decode,
  encode,
  parseTabKey,
  type TabCreateRequest,
  type TabRecord,
  type TabReply,
} from '@tabmesh/contracts';
import { SimKvLedger, countLive } from '@tabmesh/providers';
import { TabStore, TaskStore, ensureBus, loadConfig, type Bus, type Config } from '@tabmesh/runtime';
import { ServiceProcess, waitFor, type ServiceName } from '@tabmesh/testkit';

/** Environment of a fault-test mesh: sim provider with its ledger in KV, short waits, info logs. */
export const faultEnv = (natsUrl: string, env: Record<string, string> = {}): Record<string, string> => ({
  NATS_URL: natsUrl,
  LOG_LEVEL: 'info',
  TABMESH_PROVIDER: 'sim',
  TABMESH_SIM_LEDGER: 'nats',
  TABMESH_SIM_PROVISION_MS: '300',
  TABMESH_SIM_SESSION_MS: '100',
  TABMESH_ACK_WAIT_MS: '3000',
  TABMESH_RETRY_BASE_MS: '100',
  TABMESH_SWEEP_INTERVAL_MS: '500',
  TABMESH_SWEEP_AFTER_MS: '3000',
  TABMESH_DRAIN_TIMEOUT_MS: '3000',
  GATEWAY_HOST: '127.0.0.1',
  GATEWAY_HTTP_PORT: '0',
  GATEWAY_WS_PORT: '0',
  ...env,
});

export type CreateOutcome = { ok: true; tab: TabRecord & { revision: number }; created: boolean } | { ok: false; error: string };

const terminal: readonly string[] = [TabState.Ready, TabState.Error, TabState.Closed];

/**
 * The mesh as real processes, for fault tests and the chaos soak: the services run as children
 * (`ServiceProcess`), this process talks to them over the bus as the gateway would, and reads the
 * truth from KV (tabs, tasks) and the sim provider's KV ledger (sandboxes, sessions).
 */
export class ProcessMesh {
  readonly procs: ServiceProcess[] = [];
  private counter = 0;

  private constructor(
    readonly env: Record<string, string>,
    readonly config: Config,
    readonly nc: NatsConnection,
    readonly bus: Bus,
    readonly ledger: SimKvLedger,
  ) {}

  /** Connects to `natsUrl`, creates the streams and buckets the services will bind, opens the ledger. */
  static async connect(natsUrl: string, env: Record<string, string> = {}): Promise<ProcessMesh> {
    const full = faultEnv(natsUrl, env);
    const config = loadConfig(full);
    const nc = await connect({
      servers: natsUrl.split(','),
      name: 'fault-test',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    const bus = await ensureBus(nc, config);
    const ledger = await SimKvLedger.open(nc, { replicas: config.TABMESH_REPLICAS });
    return new ProcessMesh(full, config, nc, bus, ledger);
  }

  get tabs(): TabStore {
    return new TabStore(this.bus.tabs);
  }

  get tasks(): TaskStore {
    return new TaskStore(this.bus.tasks);
  }

  /** Starts one more process of `service`; extra env wins over the mesh's. */
  async spawn(service: ServiceName, env: Record<string, string> = {}, opts: { maxLogLines?: number; logDir?: string } = {}): Promise<ServiceProcess> {
    const label = `${service}#${++this.counter}`;
    const p = await ServiceProcess.start({
      service,
      env: { ...this.env, ...env },
      label,
      echo: process.env.FAULT_ECHO === '1',
      ...(opts.maxLogLines ? { maxLogLines: opts.maxLogLines } : {}),
      ...(opts.logDir ? { logFile: join(opts.logDir, `${label.replace('#', '-')}.log`) } : {}),
    });
    this.procs.push(p);
    return p;
  }

  running(service?: ServiceName): ServiceProcess[] {
    return this.procs.filter((p) => p.running && (!service || p.service === service));
  }

  /** `tab.create` on the bus; a timeout or no responder comes back as `{ok:false}`. */
  async create(org: string, task: string, extra: Partial<TabCreateRequest> = {}, timeoutMs = 5000): Promise<CreateOutcome> {
    const payload = encode(TabCreateRequestSchema, { v: 1, org, task, ...extra }, 'create');
    try {
      const reply = decode(TabReplySchema, (await this.nc.request(Subjects.tabCreate, payload, { timeout: timeoutMs })).data, 'reply');
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
      last = await this.create(org, task, { clientRequestId }, opts.timeoutMs ?? 3000);
      first ??= last;
      if (last.ok) return { first, final: last, attempts: i };
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 250));
    }
    return { first: first!, final: last, attempts };
  }

  /** `POST` a tab through a gateway's HTTP API; any non-2xx, or no answer, is `{ok:false}`. */
  async httpCreate(baseUrl: string, org: string, task: string, clientRequestId: string, timeoutMs = 8000): Promise<CreateOutcome> {
    try {
      const res = await fetch(`${baseUrl}/v1/orgs/${org}/tasks/${task}/tabs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientRequestId }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.json()) as { tab?: TabRecord & { revision: number }; code?: string; detail?: string };
      if (res.status === 201 || res.status === 200) return { ok: true, tab: body.tab!, created: res.status === 201 };
      return { ok: false, error: `${res.status} ${body.code ?? ''} ${body.detail ?? ''}` };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async tabOp(subject: string, org: string, task: string, tab: string, timeoutMs = 5000): Promise<TabReply> {
    const payload = encode(TabRefRequestSchema, { v: 1, org, task, tab }, subject);
    return decode(TabReplySchema, (await this.nc.request(subject, payload, { timeout: timeoutMs })).data, 'reply');
  }

  async tab(org: string, task: string, id: string): Promise<TabRecord | null> {
    return (await this.tabs.getTab(org, task, id))?.value ?? null;
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

  async waitForState(org: string, task: string, id: string, states: string[], timeoutMs = 30_000): Promise<TabRecord> {
    return waitFor(`tab ${id} to reach ${states.join('|')}`, async () => {
      const t = await this.tab(org, task, id);
      return t && states.includes(t.state) ? t : undefined;
    }, timeoutMs, 100);
  }

  /** Live sandboxes per `org.task` and live sessions per tab, from the sim ledger. */
  async live(): Promise<ReturnType<typeof countLive>> {
    // Retried: right after a cluster node dies, a read may time out while leaders are re-elected.
    return waitFor('the sim ledger', async () => countLive(await this.ledger.snapshot()), 60_000, 500);
  }

  /** Consumer state of a stream's durable: jobs handed out but not acked, and jobs not yet handed out. */
  async consumer(stream: string, name: string): Promise<{ ackPending: number; pending: number; redelivered: number }> {
    const info = await this.bus.jsm.consumers.info(stream, name);
    return { ackPending: info.num_ack_pending, pending: info.num_pending, redelivered: info.num_redelivered };
  }

  /** Stops every process still running (SIGTERM, then SIGKILL) and the connection. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.procs.map((p) => p.stop(10_000)));
    await this.nc.close().catch(() => undefined);
  }
}
