import {
  type Bus,
  type Config,
  type Logger,
  SandboxSecrets,
  startWorkerService,
  type WorkerKind,
  type WorkerServiceHandle,
} from '@tabmesh/runtime';
import type { z } from 'zod';
import { createProvider } from './create-provider.js';
import type { SandboxProvider } from './provider.js';
import { ownSandboxesOnly } from './provider-guard.js';
import { type SandboxAccess, withSandboxCredentials } from './sandbox-access.js';

/**
 * Starts a worker kind whose jobs act on sandboxes (provisioner, session-creator): with the provider
 * a caller passes in (a test shares one between services), or else the one the config names.
 */
export function startProviderWorker<S extends z.ZodType, D>(
  config: Config,
  logger: Logger,
  kind: WorkerKind<S, D, SandboxProvider>,
  provider?: SandboxProvider,
): Promise<WorkerServiceHandle<S, D, SandboxProvider>> {
  return startWorkerService(config, logger, kind, provider ?? ((bus) => createProvider(config, { nc: bus.nc })));
}

/**
 * How a worker reaches sandboxes: only this provider's records (another's fails its job once,
 * nothing touched), with credentials looked up in `sandbox-secrets` at each call, so no record or
 * job ever carries them.
 */
export function workerSandboxAccess(bus: Bus, provider: SandboxProvider): SandboxAccess {
  return withSandboxCredentials(ownSandboxesOnly(provider), new SandboxSecrets(bus.sandboxSecrets));
}
