import { type HarnessOptions, setup, type TabmeshMesh } from '@tabmesh/harness';
import { countLive, type SandboxProvider, SimKvLedger } from '@tabmesh/providers';
import { waitFor } from '@tabmesh/testkit';
import { afterEach } from 'vitest';

/**
 * A mesh for fault tests: the services as child processes (none started: each test spawns what it
 * kills), plus the sim provider's ledger in KV, the truth about live sandboxes and sessions across
 * processes.
 */
export type FaultMesh = TabmeshMesh<SandboxProvider> & {
  ledger: SimKvLedger;
  /** Live sandboxes per `org.task` and live sessions per tab. */
  live(): Promise<ReturnType<typeof countLive>>;
};

export async function startFaultMesh(opts: HarnessOptions<SandboxProvider> = {}): Promise<FaultMesh> {
  const mesh = await setup<SandboxProvider>({
    mode: 'process',
    ...opts,
    services: { tabRegistry: 0, provisioner: 0, sessionCreator: 0, ...opts.services },
  });
  try {
    const ledger = await SimKvLedger.open(mesh.nc, { replicas: mesh.config.TABMESH_REPLICAS });
    // Retried: right after a cluster node dies, a read may time out while leaders are re-elected.
    const live = () => waitFor('the sim ledger', async () => countLive(await ledger.snapshot()), 60_000, 500);
    return Object.assign(mesh, { ledger, live });
  } catch (err) {
    await mesh.stop();
    throw err;
  }
}

/** A fresh fault mesh (and nats-server) for each test that calls `start`, stopped after the test. */
export function faultMeshPerTest(): { start: (env?: Record<string, string>) => Promise<FaultMesh> } {
  let mesh: FaultMesh | null = null;
  afterEach(async () => {
    await mesh?.stop();
    mesh = null;
  });
  return {
    start: async (env = {}) => {
      mesh = await startFaultMesh({ env });
      return mesh;
    },
  };
}
