import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger of a service: JSON lines with the service name on each. */
export function createLogger(service: string, level: string): Logger {
  return pino({ level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A child logger for one job or request, built from its ids in one place. */
export function jobLogger(
  logger: Logger,
  ids: { correlationId?: string | undefined; org?: string; task?: string; tab?: string; [key: string]: unknown },
): Logger {
  return logger.child(Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)));
}
