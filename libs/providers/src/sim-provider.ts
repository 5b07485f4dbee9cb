import { ErrorCode, type SandboxRef, TabmeshError } from '@tabmesh/contracts';
import type { ProvisionRequest, SandboxProvider, SessionRequest } from './provider.js';
import { simSandboxRef, simulateProvisioning, simulateSessionCreation } from './sim-behaviour.js';
import { simSandboxId, simSessionId } from './sim-ids.js';

export type SimSettings = {
  /** Latency of provisioning a sandbox, split over its steps. */
  provisionMs: number;
  sessionMs: number;
  /** Probability in [0, 1] that a provision or session step fails. */
  failRate: number;
};

/** What the sim backend holds, exposed so load and fault tests can count sandboxes and sessions. */
export class SimLedger {
  readonly sandboxes = new Map<string, { org: string; task: string; generation: number; live: boolean }>();
  readonly sessions = new Map<string, { sandboxId: string; tab: string; live: boolean }>();
  provisionCalls = 0;
  sessionCalls = 0;

  liveSandboxes(org: string, task: string): number {
    return [...this.sandboxes.values()].filter((s) => s.org === org && s.task === task && s.live).length;
  }
  liveSessionsOfTab(tab: string): number {
    return [...this.sessions.values()].filter((s) => s.tab === tab && s.live).length;
  }
}

/**
 * The `sim` provider: for load and fault tests only. It creates no real sandbox; it waits the
 * configured latency, fails at the configured rate, and records what a real backend would hold.
 */
export class SimProvider implements SandboxProvider {
  readonly name = 'sim';
  /** Fail-rate override, so a test can lift failures while the mesh runs. */
  failRate: number;

  constructor(
    private readonly settings: SimSettings,
    readonly ledger: SimLedger = new SimLedger(),
  ) {
    this.failRate = settings.failRate;
  }

  async provision(req: ProvisionRequest): Promise<SandboxRef> {
    this.ledger.provisionCalls++;
    const id = simSandboxId(req.org, req.task, req.generation);
    const existing = this.ledger.sandboxes.get(id);
    if (existing?.live) return simSandboxRef(id);
    await simulateProvisioning(req, this.settings.provisionMs, this.failRate);
    this.ledger.sandboxes.set(id, { org: req.org, task: req.task, generation: req.generation, live: true });
    return simSandboxRef(id);
  }

  async destroySandbox(sandbox: SandboxRef): Promise<void> {
    const s = this.ledger.sandboxes.get(sandbox.id);
    if (s) s.live = false;
    for (const session of this.ledger.sessions.values()) if (session.sandboxId === sandbox.id) session.live = false;
  }

  async createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    this.ledger.sessionCalls++;
    if (!this.ledger.sandboxes.get(sandbox.id)?.live && this.ledger.sandboxes.has(sandbox.id)) {
      throw new TabmeshError(ErrorCode.SandboxGone, `sim provider: sandbox ${sandbox.id} is gone`);
    }
    const sessionId = simSessionId(req.tab, req.attempt);
    if (this.ledger.sessions.get(sessionId)?.live) return { sessionId };
    await simulateSessionCreation(req, this.settings.sessionMs, this.failRate);
    this.ledger.sessions.set(sessionId, { sandboxId: sandbox.id, tab: req.tab, live: true });
    return { sessionId };
  }

  sessionIdOf(tab: string, attempt: number): string {
    return simSessionId(tab, attempt);
  }

  async destroySession(_sandbox: SandboxRef, sessionId: string): Promise<void> {
    const s = this.ledger.sessions.get(sessionId);
    if (s) s.live = false;
  }

  async sandboxAlive(sandbox: SandboxRef): Promise<boolean> {
    return this.ledger.sandboxes.get(sandbox.id)?.live === true;
  }

  async sessionExists(_sandbox: SandboxRef, sessionId: string): Promise<boolean> {
    return this.ledger.sessions.get(sessionId)?.live === true;
  }

  async close(): Promise<void> {}
}
