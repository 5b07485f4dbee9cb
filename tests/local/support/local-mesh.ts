import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { JetStreamSessionPersistDriver, LocalProvider, localSandboxProcesses } from '@tabmesh/providers';
import { lateBound } from '@tabmesh/testkit';
import { afterAll, beforeAll } from 'vitest';

export type LocalMeshSuite = {
  mesh: TabmeshMesh<LocalProvider>;
  /** The provider the mesh's workers share: the real sandbox-agent binary with its mock agent. */
  local: LocalProvider;
  /** Where the provider keeps its sandbox records, removed after the suite. */
  stateDir: string;
};

/**
 * A whole mesh on the local provider for the enclosing `describe`, sandbox records in a fresh
 * directory. After the last test every sandbox a task still holds is destroyed, then any process
 * left in the directory is killed, so no sandbox-agent outlives the suite.
 */
export function localMeshForSuite(name: string, env: Record<string, string> = {}): LocalMeshSuite {
  const stateDir = mkdtempSync(join(tmpdir(), `tabmesh-${name}-`));
  let mesh: TabmeshMesh<LocalProvider> | undefined;
  let local: LocalProvider | undefined;
  beforeAll(async () => {
    mesh = await setup({
      env: { TABMESH_PROVIDER: 'local', TABMESH_ACK_WAIT_MS: '20000', ...env },
      provider: async (nc) => {
        local = new LocalProvider({
          stateDir,
          startTimeoutMs: 15_000,
          sessionTimeoutMs: 15_000,
          persist: await JetStreamSessionPersistDriver.open(nc),
        });
        return local;
      },
    });
  });
  afterAll(async () => {
    if (mesh && local) {
      for await (const key of await mesh.bus.tasks.keys()) {
        const sandbox = (await mesh.tasks.get(key))?.value.sandbox;
        if (sandbox) await local.destroySandbox(await mesh.reach(sandbox));
      }
    }
    await mesh?.stop();
    for (const p of localSandboxProcesses(stateDir)) process.kill(-p.pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });
  return {
    mesh: lateBound(() => mesh, 'the local mesh'),
    local: lateBound(() => local, 'the local provider'),
    stateDir,
  };
}
