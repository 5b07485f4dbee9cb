export { NatsServer, freePort, natsServerBinary, type NatsServerOptions } from './nats-server.js';
export { waitFor, sleep, uniqueId } from './wait.js';
export { testConfig } from './test-config.js';
