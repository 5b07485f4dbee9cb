import { startGateway } from '@tabmesh/gateway';
import { type SandboxProvider, SimProvider } from '@tabmesh/providers';
import { startProvisioner } from '@tabmesh/provisioner';
import type { Config } from '@tabmesh/runtime';
import { startSessionCreator } from '@tabmesh/session-creator';
import { startTabRegistry } from '@tabmesh/tab-registry';
import { type InProcessServices, type Mesh, type SetupOptions, setup as setupMesh } from '@tabmesh/testkit';

const simFromConfig = (config: Config): SimProvider =>
  new SimProvider({
    provisionMs: config.TABMESH_SIM_PROVISION_MS,
    sessionMs: config.TABMESH_SIM_SESSION_MS,
    failRate: config.TABMESH_SIM_FAIL_RATE,
  });

/** The four services' start functions, in the shape testkit's `setup()` runs them in this process. */
export const inProcess = {
  sim: simFromConfig,
  tabRegistry: ({ config, logger }) => startTabRegistry(config, logger),
  provisioner: ({ config, logger, provider }) => startProvisioner(config, logger, provider ? { provider } : {}),
  sessionCreator: ({ config, logger, provider }) => startSessionCreator(config, logger, provider ? { provider } : {}),
  gateway: ({ config, logger }) => startGateway(config, logger),
} satisfies InProcessServices<SandboxProvider>;

export type HarnessOptions<P extends SandboxProvider> = Omit<SetupOptions<typeof inProcess, P>, 'inProcess'>;
export type TabmeshMesh<P extends SandboxProvider = SimProvider> = Mesh<typeof inProcess, P>;

/**
 * testkit's `setup()` with every tabmesh service startable in this process. It lives above the
 * services (testkit cannot import them: they use testkit for their own tests); tests/, the client's
 * tests and the browser tests start their meshes here.
 */
export function setup<P extends SandboxProvider = SimProvider>(opts: HarnessOptions<P> = {}): Promise<TabmeshMesh<P>> {
  return setupMesh<typeof inProcess, P>({ ...opts, inProcess });
}
