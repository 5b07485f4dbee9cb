export { freePort, natsServerBinary } from '@tabmesh/nats-launcher';
export { type BusOnServer, startBusOnServer } from './bus-on-server.js';
export { TestAdminUser, TestBusUsers } from './bus-users.js';
export { newTabId, tabRecord, taskRecord } from './fixtures.js';
export { BusOps, type CreateOutcome } from './harness/bus-ops.js';
export { type HandleOf, type Handles, Mesh, type Urls } from './harness/mesh.js';
export type {
  GatewayLike,
  InProcessServices,
  NatsChoice,
  ProcessOptions,
  ProviderChoice,
  ServiceKind,
  SetupOptions,
  StartContext,
  Starter,
  Stoppable,
} from './harness/options.js';
export { waitForReadyz } from './harness/readyz.js';
export { setup } from './harness/setup.js';
export { lateBound } from './late-bound.js';
export { NatsCluster } from './nats-cluster.js';
export { NatsServer, type NatsServerOptions } from './nats-server.js';
export {
  type Exit,
  type LogLine,
  MeshHost,
  repoRoot,
  ServiceName,
  ServiceProcess,
  type ServiceProcessOptions,
} from './service-process.js';
export { inProcessTestEnv, loopbackEnv, processTestEnv, TestJwtSecret, testConfig } from './test-config.js';
export { type TestTokenOptions, testAuthHeader, testToken } from './test-token.js';
export { sleep, uniqueId, waitFor } from './wait.js';
