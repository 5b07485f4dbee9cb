export { NatsServer, type NatsServerOptions } from './nats-server.js';
export { freePort, natsServerBinary } from '@tabmesh/nats-launcher';
export { waitFor, sleep, uniqueId } from './wait.js';
export { newTabId, tabRecord, taskRecord } from './fixtures.js';
export { inProcessTestEnv, processTestEnv, loopbackEnv, testConfig, TestJwtSecret } from './test-config.js';
export { testToken, testAuthHeader, type TestTokenOptions } from './test-token.js';
export { ServiceProcess, ServiceName, repoRoot, type LogLine, type Exit, type ServiceProcessOptions } from './service-process.js';
export { NatsCluster } from './nats-cluster.js';
export { setup } from './harness/setup.js';
export { Mesh, type HandleOf, type Handles, type Urls } from './harness/mesh.js';
export { BusOps, type CreateOutcome } from './harness/bus-ops.js';
export { waitForReadyz } from './harness/readyz.js';
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
