import { ErrorCode, type SandboxRef, Step, TabmeshError } from '@tabmesh/contracts';
import { abortableSleep } from './abortable-sleep.js';
import type { ProvisionRequest, SessionRequest } from './provider.js';

/**
 * What the `sim` providers (in-memory and NATS-ledger) do in place of a real backend, for load and
 * fault tests only: wait the configured latency, report the steps a real provisioning reports, and
 * fail at `failRate`. Where they keep what they "created" is theirs.
 */
export const simSandboxRef = (id: string): SandboxRef => ({
  provider: 'sim',
  id,
  endpoint: `sim://${id}`,
  token: null,
});

/** A third of `provisionMs` creating the sandbox, the rest starting its agent; may fail in between. */
export async function simulateProvisioning(
  req: ProvisionRequest,
  provisionMs: number,
  failRate: number,
): Promise<void> {
  const third = provisionMs / 3;
  await req.onStep(Step.CreatingSandbox);
  await abortableSleep(third, req.signal);
  maybeFail(failRate, ErrorCode.ProvisionFailed, 'provisioning');
  await req.onStep(Step.StartingAgent);
  await abortableSleep(provisionMs - third, req.signal);
}

export async function simulateSessionCreation(req: SessionRequest, sessionMs: number, failRate: number): Promise<void> {
  await abortableSleep(sessionMs, req.signal);
  maybeFail(failRate, ErrorCode.SessionFailed, 'session creation');
}

function maybeFail(failRate: number, code: ErrorCode, what: string): void {
  if (failRate > 0 && Math.random() < failRate) {
    throw new TabmeshError(code, `sim provider: ${what} failed (simulated)`, { retryable: true });
  }
}
