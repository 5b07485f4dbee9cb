import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  Subjects,
  TabCreateRequestSchema,
  TabRefRequestSchema,
  TabReplySchema,
  decode,
  encode,
  type Tab,
  type TabCreateRequest,
  type TabRecord,
  type TabReply,
} from '@tabmesh/contracts';
import { SimProvider, type SandboxProvider } from '@tabmesh/providers';
import { startProvisioner, type ProvisionerHandle } from '@tabmesh/provisioner';
import {
  TabStore,
  TaskStore,
  createLogger,
  ensureBus,
  type Bus,
  type Config,
} from '@tabmesh/runtime';
import { startSessionCreator, type SessionCreatorHandle } from '@tabmesh/session-creator';
import { startTabRegistry, type TabRegistryHandle } from '@tabmesh/tab-registry';
import { NatsServer, testConfig, waitFor } from '@tabmesh/testkit';

export type MeshOptions = {
  env?: Record<string, string>;
  /**
   * Defaults to one sim provider shared by provisioner and session-creator, so its ledger sees all.
   * A function is called with the mesh's connection (e.g. for JetStream session records).
   */
  provider?: SandboxProvider | ((nc: NatsConnection) => Promise<SandboxProvider>);
  registries?: number;
  provisioners?: number;
  sessionCreators?: number;
};

/** A nats-server plus the three back-end services, in this process, for invariant tests. */
export class TestMesh {
  registries: TabRegistryHandle[] = [];
  provisioners: ProvisionerHandle[] = [];
  sessionCreators: SessionCreatorHandle[] = [];

  private constructor(
    readonly server: NatsServer,
    readonly config: Config,
    readonly provider: SandboxProvider,
    readonly nc: NatsConnection,
    readonly bus: Bus,
  ) {}

  static async start(opts: MeshOptions = {}): Promise<TestMesh> {
    const server = await NatsServer.start();
    const config = testConfig(server.url, opts.env);
    const nc = await connect({ servers: server.url });
    const provider =
      typeof opts.provider === 'function'
        ? await opts.provider(nc)
        : (opts.provider ??
          new SimProvider({
            provisionMs: config.TABMESH_SIM_PROVISION_MS,
            sessionMs: config.TABMESH_SIM_SESSION_MS,
            failRate: config.TABMESH_SIM_FAIL_RATE,
          }));
    const bus = await ensureBus(nc, config);
    const mesh = new TestMesh(server, config, provider, nc, bus);
    for (let i = 0; i < (opts.registries ?? 1); i++) await mesh.addRegistry();
    for (let i = 0; i < (opts.provisioners ?? 1); i++) await mesh.addProvisioner();
    for (let i = 0; i < (opts.sessionCreators ?? 1); i++) await mesh.addSessionCreator();
    return mesh;
  }

  get sim(): SimProvider {
    if (!(this.provider instanceof SimProvider)) throw new Error('this mesh does not run the sim provider');
    return this.provider;
  }

  get tabs(): TabStore {
    return new TabStore(this.bus.tabs);
  }

  get tasks(): TaskStore {
    return new TaskStore(this.bus.tasks);
  }

  logger(name: string) {
    return createLogger(name, this.config.LOG_LEVEL);
  }

  async addRegistry(): Promise<TabRegistryHandle> {
    const h = await startTabRegistry(this.config, this.logger('tab-registry'));
    this.registries.push(h);
    return h;
  }

  async addProvisioner(): Promise<ProvisionerHandle> {
    const h = await startProvisioner(this.config, this.logger('provisioner'), { provider: this.provider });
    this.provisioners.push(h);
    return h;
  }

  async addSessionCreator(): Promise<SessionCreatorHandle> {
    const h = await startSessionCreator(this.config, this.logger('session-creator'), { provider: this.provider });
    this.sessionCreators.push(h);
    return h;
  }

  /** Sends a `tab.*` request straight on the bus, as the gateway does. */
  async request(subject: string, payload: unknown): Promise<TabReply> {
    const reply = await this.nc.request(subject, new TextEncoder().encode(JSON.stringify(payload)), { timeout: 10_000 });
    return decode(TabReplySchema, reply.data, 'reply');
  }

  async create(org: string, task: string, extra: Partial<TabCreateRequest> = {}): Promise<Tab> {
    const payload = encode(TabCreateRequestSchema, { v: 1, org, task, ...extra }, 'create');
    const reply = decode(TabReplySchema, (await this.nc.request(Subjects.tabCreate, payload, { timeout: 10_000 })).data, 'reply');
    if (!reply.ok) throw new Error(`create failed: ${reply.error.code} ${reply.error.message}`);
    return reply.tab;
  }

  async tabOp(subject: string, org: string, task: string, tab: string): Promise<TabReply> {
    const payload = encode(TabRefRequestSchema, { v: 1, org, task, tab }, subject);
    return decode(TabReplySchema, (await this.nc.request(subject, payload, { timeout: 10_000 })).data, 'reply');
  }

  async tab(org: string, task: string, id: string): Promise<TabRecord | null> {
    return (await this.tabs.getTab(org, task, id))?.value ?? null;
  }

  /** Waits until the tab is in one of `states`. */
  async waitForState(org: string, task: string, id: string, states: string[], timeoutMs = 15_000): Promise<TabRecord> {
    return waitFor(`tab ${id} to reach ${states.join('|')}`, async () => {
      const t = await this.tab(org, task, id);
      return t && states.includes(t.state) ? t : undefined;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.registries, ...this.provisioners, ...this.sessionCreators].map((h) => h.stop()));
    await this.provider.close();
    await this.nc.close();
    await this.server.stop();
  }
}
