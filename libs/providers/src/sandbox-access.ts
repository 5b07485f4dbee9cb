import { type SandboxRef, type SandboxView, sandboxView } from '@tabmesh/contracts';
import type { ProvisionRequest, SandboxProvider, SessionRequest } from './provider.js';

/** Where sandbox credentials live (runtime's `SandboxSecrets`, KV bucket `sandbox-secrets`). */
export type SandboxCredentials = {
  put(ref: SandboxRef): Promise<void>;
  /** `fresh`: read the store, not a credential seen lately (see SandboxSecrets.reach). */
  reach(view: SandboxView, opts?: { fresh?: boolean }): Promise<SandboxRef>;
  remove(id: string): Promise<void>;
};

/**
 * A provider as the workers use it: records name sandboxes by provider and id only, and the
 * credential to reach one is read from (and, for a new sandbox, written to) the credential store
 * at the moment of the call, so it never lands in `tasks`, a job or a slot holder.
 */
export type SandboxAccess = {
  readonly name: string;
  /** Provisions, keeps the credential, and returns only which sandbox it is. */
  provision(req: ProvisionRequest): Promise<SandboxView>;
  /** Destroys the sandbox, then forgets its credential. */
  destroySandbox(sandbox: SandboxView): Promise<void>;
  createSession(sandbox: SandboxView, req: SessionRequest): Promise<{ sessionId: string }>;
  sessionIdOf(tab: string, attempt: number): string;
  destroySession(sandbox: SandboxView, sessionId: string): Promise<void>;
  sandboxAlive(sandbox: SandboxView): Promise<boolean>;
  sessionExists(sandbox: SandboxView, sessionId: string): Promise<boolean>;
  close(): Promise<void>;
};

export function withSandboxCredentials(provider: SandboxProvider, credentials: SandboxCredentials): SandboxAccess {
  const reach = (s: SandboxView) => credentials.reach(sandboxView(s));
  // Whether a sandbox is still there decides re-provisioning: never answered from a credential
  // another process may have removed since.
  const reachFresh = (s: SandboxView) => credentials.reach(sandboxView(s), { fresh: true });
  return {
    name: provider.name,
    provision: async (req) => {
      const ref = await provider.provision(req);
      await credentials.put(ref);
      return sandboxView(ref);
    },
    destroySandbox: async (s) => {
      await provider.destroySandbox(await reach(s));
      await credentials.remove(s.id);
    },
    createSession: async (s, req) => provider.createSession(await reach(s), req),
    sessionIdOf: (tab, attempt) => provider.sessionIdOf(tab, attempt),
    destroySession: async (s, id) => provider.destroySession(await reach(s), id),
    sandboxAlive: async (s) => provider.sandboxAlive(await reachFresh(s)),
    sessionExists: async (s, id) => provider.sessionExists(await reach(s), id),
    close: () => provider.close(),
  };
}
