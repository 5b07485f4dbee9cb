import { announceReady, createLogger, loadConfig, stopOnSignals } from '@tabmesh/runtime';
import { startTabRegistry } from './start.js';

const config = loadConfig();
const logger = createLogger('tab-registry', config.LOG_LEVEL);
stopOnSignals(await startTabRegistry(config, logger), logger);
announceReady('tab-registry');
