import { announceReady, createLogger, loadConfig, stopOnSignals } from '@tabmesh/runtime';
import { startSessionCreator } from './start.js';

const config = loadConfig();
const logger = createLogger('session-creator', config.LOG_LEVEL);
stopOnSignals(await startSessionCreator(config, logger), logger);
announceReady('session-creator');
