import { NatsServer } from '@tabmesh/testkit';
import { afterEach, beforeEach } from 'vitest';
import { ProcessMesh } from './process-mesh.js';

/**
 * A fresh nats-server for every test of the enclosing describe, and a process mesh each test starts
 * with its own settings; after the test both are stopped, the mesh first.
 */
export function processMeshPerTest(): { start: (env?: Record<string, string>) => Promise<ProcessMesh> } {
  let nats: NatsServer | null = null;
  let mesh: ProcessMesh | null = null;
  beforeEach(async () => {
    nats = await NatsServer.start();
  });
  afterEach(async () => {
    await mesh?.stop();
    mesh = null;
    await nats?.stop();
    nats = null;
  });
  return {
    start: async (env = {}) => {
      if (!nats) throw new Error('processMeshPerTest: start() runs inside a test');
      mesh = await ProcessMesh.connect(nats.url, env);
      return mesh;
    },
  };
}
