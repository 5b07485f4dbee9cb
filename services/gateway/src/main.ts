import { announceReady, createLogger, loadConfig, stopOnSignals } from '@tabmesh/runtime';
import { startGateway } from './gateway.js';

const config = loadConfig();
const logger = createLogger('gateway', config.LOG_LEVEL);
try {
  const gateway = await startGateway(config, logger);
  stopOnSignals(gateway, logger);
  announceReady('gateway', { http: gateway.httpPort, ws: gateway.wsPort });
} catch (err) {
  logger.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
