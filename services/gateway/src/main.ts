import { createLogger, loadConfig, stopOnSignals } from '@tabmesh/runtime';
import { startGateway } from './gateway.js';

const config = loadConfig();
const logger = createLogger('gateway', config.LOG_LEVEL);
try {
  stopOnSignals(await startGateway(config, logger), logger);
} catch (err) {
  logger.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
