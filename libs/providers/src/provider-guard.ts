import type { SandboxRef } from '@tabmesh/contracts';
import { ErrorCode, ProviderError } from './errors.js';
import type { SandboxProvider } from './provider.js';

/**
 * A record of one provider handed to another (a `sim` sandbox left in the store, then the mesh run
 * with `local`). Not retryable: the same job fails the same way each time, so it fails once.
 */
export class ProviderMismatchError extends ProviderError {
  override name = 'ProviderMismatchError';
  constructor(
    readonly recordProvider: string,
    readonly workerProvider: string,
    sandboxId: string,
  ) {
    super(
      ErrorCode.InvalidRequest,
      `sandbox ${sandboxId} was made by provider "${recordProvider}" but this worker runs provider "${workerProvider}"; it is not handed to it (nothing destroyed)`,
      { retryable: false },
    );
  }
}

/** Throws ProviderMismatchError unless `sandbox` was made by `provider`. */
export function assertOwnSandbox(provider: SandboxProvider, sandbox: SandboxRef): void {
  if (sandbox.provider !== provider.name) throw new ProviderMismatchError(sandbox.provider, provider.name, sandbox.id);
}

/**
 * The provider as workers use it: every call that takes a SandboxRef first checks the record names
 * this provider, so no worker ever asks a provider to act on (or destroy) what another one made.
 */
export function ownSandboxesOnly(provider: SandboxProvider): SandboxProvider {
  const own =
    <A extends unknown[], R>(fn: (sandbox: SandboxRef, ...args: A) => Promise<R>) =>
    async (sandbox: SandboxRef, ...args: A): Promise<R> => {
      assertOwnSandbox(provider, sandbox);
      return fn.call(provider, sandbox, ...args);
    };
  return {
    name: provider.name,
    provision: (req) => provider.provision(req),
    destroySandbox: own(provider.destroySandbox),
    createSession: own(provider.createSession),
    sessionIdOf: (tab, attempt) => provider.sessionIdOf(tab, attempt),
    destroySession: own(provider.destroySession),
    sandboxAlive: own(provider.sandboxAlive),
    sessionExists: own(provider.sessionExists),
    close: () => provider.close(),
  };
}
