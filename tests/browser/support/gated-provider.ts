import { type SandboxRef, Step } from '@tabmesh/contracts';
import type { ProvisionRequest, SandboxProvider, SessionRequest, SimProvider } from '@tabmesh/providers';

/**
 * The sim provider with a gate: while held, provisioning stops at "Starting agent" and session
 * creation before it starts, so a test (or a screenshot) sees a pending tab for as long as it needs.
 * Failures still come from the sim's mutable `failRate`.
 */
export class GatedProvider implements SandboxProvider {
  readonly name: string;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;

  constructor(readonly sim: SimProvider) {
    this.name = sim.name;
  }

  hold(): void {
    if (!this.gate) this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = null;
    this.open = null;
  }

  async provision(req: ProvisionRequest): Promise<SandboxRef> {
    return this.sim.provision({
      ...req,
      onStep: async (step) => {
        await req.onStep(step);
        if (step === Step.StartingAgent) await this.pass(req.signal);
      },
    });
  }

  async createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    await this.pass(req.signal);
    return this.sim.createSession(sandbox, req);
  }

  destroySandbox(sandbox: SandboxRef): Promise<void> {
    return this.sim.destroySandbox(sandbox);
  }
  sessionIdOf(tab: string, attempt: number): string {
    return this.sim.sessionIdOf(tab, attempt);
  }

  destroySession(sandbox: SandboxRef, sessionId: string): Promise<void> {
    return this.sim.destroySession(sandbox, sessionId);
  }
  sandboxAlive(sandbox: SandboxRef): Promise<boolean> {
    return this.sim.sandboxAlive(sandbox);
  }
  sessionExists(sandbox: SandboxRef, sessionId: string): Promise<boolean> {
    return this.sim.sessionExists(sandbox, sessionId);
  }
  close(): Promise<void> {
    return this.sim.close();
  }

  private async pass(signal: AbortSignal): Promise<void> {
    while (this.gate) {
      const gate = this.gate;
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        void gate.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }
}
