import { connect } from '@nats-io/transport-node';
import { freePort } from '@tabmesh/nats-launcher';
import { TestAdminUser, TestBusUsers } from './bus-users.js';
import { NatsServer } from './nats-server.js';
import { waitFor } from './wait.js';

/**
 * A JetStream cluster of nats-server processes on loopback, routed to each other, each with its own
 * port and store. Ready once the JetStream meta leader is elected; any node can be killed and
 * restarted with its store, as a crashed and rebooted machine would be.
 */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsServer[],
    /** The bus users every node knows; null for an open cluster. */
    readonly users: TestBusUsers | null,
  ) {}

  static async start(opts: { size?: number; name?: string; users?: TestBusUsers | false } = {}): Promise<NatsCluster> {
    const size = opts.size ?? 3;
    const users = opts.users === false ? null : (opts.users ?? new TestBusUsers());
    const ports: Array<{ client: number; cluster: number }> = [];
    for (let i = 0; i < size; i++) ports.push({ client: await freePort(), cluster: await freePort() });
    const route = (p: number) => `nats://127.0.0.1:${p}`;
    const nodes = await Promise.all(
      ports.map(({ client, cluster }, i) =>
        NatsServer.start({
          port: client,
          users: users ?? false,
          args: [
            '--cluster',
            route(cluster),
            '--routes',
            ports
              .filter((_, j) => j !== i)
              .map((p) => route(p.cluster))
              .join(','),
            '--cluster_name',
            opts.name ?? 'tabmesh',
            '-n',
            `node${i + 1}`,
          ],
        }),
      ),
    );
    const cluster = new NatsCluster(nodes, users);
    await cluster.waitForJetStream();
    return cluster;
  }

  /** Connection options of the test's own identity (`admin`; none on an open cluster). */
  get adminAuth(): { user?: string; pass?: string } {
    return this.users ? this.users.connectOptions(TestAdminUser) : {};
  }

  /** Every node's client URL, comma-separated, as NATS_URL takes it. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** Waits until JetStream answers on a node that runs (a meta leader exists). */
  async waitForJetStream(timeoutMs = 60_000): Promise<void> {
    const live = this.nodes.filter((n) => n.pid !== undefined);
    const nc = await connect({ servers: live.map((n) => n.url), ...this.adminAuth });
    try {
      await waitFor(
        'JetStream meta leader',
        async () => {
          const res = await nc.request('$JS.API.INFO', undefined, { timeout: 2000 });
          const info = JSON.parse(new TextDecoder().decode(res.data)) as { error?: unknown };
          return info.error === undefined;
        },
        timeoutMs,
        250,
      );
    } finally {
      await nc.close();
    }
  }

  /** Kills node `i` (SIGKILL by default) and leaves it down. */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.node(i).kill(signal);
  }

  /** Starts node `i` again on its port with its store. */
  async restart(i: number): Promise<void> {
    await this.node(i).restart();
  }

  private node(i: number): NatsServer {
    const node = this.nodes[i];
    if (!node) throw new RangeError(`no node ${i} in a cluster of ${this.nodes.length}`);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
