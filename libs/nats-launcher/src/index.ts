export { natsServerBinary } from './binary.js';
export { type LaunchOptions, launchNatsServer, NatsLaunchError, serverThreads } from './launch.js';
export { freePort, waitForPort } from './ports.js';
