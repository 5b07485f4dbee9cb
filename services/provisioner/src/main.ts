import { announceReady, createLogger, loadConfig, stopOnSignals } from '@tabmesh/runtime';
import { startProvisioner } from './start.js';

const config = loadConfig();
const logger = createLogger('provisioner', config.LOG_LEVEL);
stopOnSignals(await startProvisioner(config, logger), logger);
announceReady('provisioner');
