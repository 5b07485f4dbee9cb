export { natsServerBinary } from './binary.js';
export { freePort, waitForPort } from './ports.js';
export { launchNatsServer, NatsLaunchError, type LaunchOptions } from './launch.js';
