import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, type SandboxRef, TabmeshError } from '@tabmesh/contracts';
import { authOptions, type NatsAuth } from '@tabmesh/runtime';
import type { ProvisionRequest, SandboxProvider, SessionRequest } from './provider.js';
import { simSandboxRef, simulateProvisioning, simulateSessionCreation } from './sim-behaviour.js';
import { simSandboxId, simSessionId } from './sim-ids.js';
import { SimKvLedger } from './sim-ledger-kv.js';
import type { SimSettings } from './sim-provider.js';

export { simSandboxId, simSessionId };

/**
 * The `sim` provider with its ledger in NATS KV (`TABMESH_SIM_LEDGER=nats`): for load and fault
 * tests only, when services run as separate processes. It creates nothing real; it waits the
 * configured latency, fails at the configured rate, and records sandboxes and sessions in bucket
 * `sim-ledger` so a test can count them across processes and SIGKILLs. Like a real backend, the
 * same task generation gives the same sandbox and the same tab attempt the same live session.
 */
export class SimKvProvider implements SandboxProvider {
  readonly name = 'sim';
  failRate: number;

  constructor(
    private readonly settings: SimSettings,
    readonly ledger: SimKvLedger,
    private readonly ownConnection: NatsConnection | null = null,
  ) {
    this.failRate = settings.failRate;
  }

  /** Opens the ledger on `nc`, or on a connection of its own to `natsUrl` (closed by `close`). */
  static async open(
    settings: SimSettings,
    opts: { nc?: NatsConnection; natsUrl: string; auth?: NatsAuth; replicas: number },
  ): Promise<SimKvProvider> {
    const nc =
      opts.nc ??
      (await connect({
        servers: opts.natsUrl.split(','),
        name: 'sim-ledger',
        ...authOptions(opts.auth ?? null),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      }));
    const own = nc === opts.nc ? null : nc;
    try {
      const ledger = await SimKvLedger.open(nc, { replicas: opts.replicas });
      return new SimKvProvider(settings, ledger, own);
    } catch (err) {
      // A ledger that cannot open (e.g. more replicas than servers) must not leave its connection behind.
      await own?.close();
      throw err;
    }
  }

  async provision(req: ProvisionRequest): Promise<SandboxRef> {
    const id = simSandboxId(req.org, req.task, req.generation);
    if ((await this.ledger.sandbox(id))?.live) return simSandboxRef(id);
    await simulateProvisioning(req, this.settings.provisionMs, this.failRate);
    await this.ledger.putSandbox(id, { org: req.org, task: req.task, generation: req.generation });
    return simSandboxRef(id);
  }

  async destroySandbox(sandbox: SandboxRef): Promise<void> {
    await this.ledger.destroySandbox(sandbox.id);
  }

  async createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    const box = await this.ledger.sandbox(sandbox.id);
    if (box && !box.live) throw new TabmeshError(ErrorCode.SandboxGone, `sim provider: sandbox ${sandbox.id} is gone`);
    const sessionId = simSessionId(req.tab, req.attempt);
    if ((await this.ledger.session(sandbox.id, sessionId))?.live) return { sessionId };
    await simulateSessionCreation(req, this.settings.sessionMs, this.failRate);
    await this.ledger.putSession(sandbox.id, sessionId, { tab: req.tab, attempt: req.attempt });
    return { sessionId };
  }

  sessionIdOf(tab: string, attempt: number): string {
    return simSessionId(tab, attempt);
  }

  async destroySession(sandbox: SandboxRef, sessionId: string): Promise<void> {
    await this.ledger.destroySession(sandbox.id, sessionId);
  }

  async sandboxAlive(sandbox: SandboxRef): Promise<boolean> {
    return (await this.ledger.sandbox(sandbox.id))?.live === true;
  }

  async sessionExists(sandbox: SandboxRef, sessionId: string): Promise<boolean> {
    return (await this.ledger.session(sandbox.id, sessionId))?.live === true;
  }

  async close(): Promise<void> {
    if (this.ownConnection && !this.ownConnection.isClosed()) await this.ownConnection.drain().catch(() => undefined);
  }
}
