import { type Config, loadConfig } from './config.js';
import { type ServiceHandle, stopOnSignals } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';

/**
 * The whole `main.ts` of a service: load the configuration, create the logger, start, stop on
 * SIGTERM/SIGINT. A boot failure (a `ConfigError`, or anything the start throws) is logged with
 * the error serialized and the process exits 1, so a supervisor sees it failed and why.
 */
export async function runMain(
  name: string,
  start: (config: Config, logger: Logger) => Promise<ServiceHandle>,
): Promise<void> {
  // The configured level is not known until the configuration parsed; a boot failure is logged at info.
  let logger = createLogger(name, 'info');
  try {
    const config = loadConfig();
    logger = createLogger(name, config.LOG_LEVEL);
    const started = start(config, logger);
    stopOnSignals(started, logger);
    await started;
  } catch (err) {
    logger.fatal({ err }, `${name} failed to start`);
    process.exit(1);
  }
}
