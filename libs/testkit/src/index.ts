export { NatsServer, freePort, natsServerBinary, type NatsServerOptions } from './nats-server.js';
export { waitFor, sleep, uniqueId } from './wait.js';
export { testConfig } from './test-config.js';
export { ServiceProcess, ServiceName, repoRoot, type LogLine, type Exit, type ServiceProcessOptions } from './service-process.js';
export { NatsCluster } from './nats-cluster.js';
