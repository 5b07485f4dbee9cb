import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/**
 * Fields whose values never reach a log line: sandbox tokens (a `SandboxRef` is logged as `sandbox`,
 * inside a task record or a teardown job as `task.sandbox` / `job.sandbox`), passwords (NATS users),
 * secrets (the JWT secret), bearer tokens and cookies in request headers, and `access_token` from a
 * WebSocket upgrade query. pino's paths match one level per `*`, so the usual nestings are listed.
 */
export const RedactedPaths = [
  'token',
  '*.token',
  '*.*.token',
  '*.*.*.token',
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  '*.*.secret',
  'access_token',
  '*.access_token',
  '*.*.access_token',
  'accessToken',
  '*.accessToken',
  '*.*.accessToken',
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'cookie',
  '*.cookie',
  '*.*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'NATS_PASSWORD',
  '*.NATS_PASSWORD',
  'NATS_SETUP_PASSWORD',
  '*.NATS_SETUP_PASSWORD',
  // nats.js connection options (`user`/`pass`), should one be logged.
  'pass',
  '*.pass',
  '*.*.pass',
  'TABMESH_JWT_SECRET',
  '*.TABMESH_JWT_SECRET',
];

/**
 * The root logger of a service: JSON lines with the service name on each, secrets redacted.
 * `destination` is for tests that read the lines back; services log to stdout.
 */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: RedactedPaths, censor: '[Redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A child logger for one job or request, built from its ids in one place. */
export function jobLogger(
  logger: Logger,
  ids: { correlationId?: string | undefined; org?: string; task?: string; tab?: string; [key: string]: unknown },
): Logger {
  return logger.child(Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)));
}
