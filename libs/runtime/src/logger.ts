import { type ChildLoggerOptions, type DestinationStream, type Logger, pino } from 'pino';

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
  // Written synchronously: lines reach stdout in the order they were logged, and none is lost when
  // the process exits right after its last line (a stop ends in process.exit).
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

const LevelMethods = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const noop = () => undefined;

/** What a lazy child stands for: the logger it will be a child of, and its bindings. */
const lazyOrigins = new WeakMap<Logger, { parent: Logger; bindings: Record<string, unknown> }>();

/**
 * A child logger that is built only when it first writes a line at an enabled level (or is asked
 * for anything else a pino logger has). With redaction on, pino's `child()` runs every binding
 * through the redaction paths (about 20 µs here), and most jobs and requests log nothing at `info`.
 * A lazy child of a lazy child merges both bindings onto the first real logger, so asking whether a
 * level is enabled never builds the one in between.
 */
function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  const origin = lazyOrigins.get(parent);
  if (origin) return lazyChild(origin.parent, { ...origin.bindings, ...bindings });
  let real: Logger | null = null;
  const materialise = (): Logger => {
    real ??= parent.child(bindings);
    return real;
  };
  const proxy = new Proxy(parent, {
    get(target, prop) {
      if (prop === 'child')
        return (more: Record<string, unknown>, opts?: ChildLoggerOptions) =>
          opts ? materialise().child(more, opts) : lazyChild(parent, { ...bindings, ...more });
      if (typeof prop === 'string' && LevelMethods.has(prop) && !(real ?? target).isLevelEnabled(prop)) return noop;
      const r = materialise();
      const v: unknown = Reflect.get(r, prop, r);
      return typeof v === 'function' ? v.bind(r) : v;
    },
    set(_target, prop, value) {
      return Reflect.set(materialise(), prop, value);
    },
  });
  lazyOrigins.set(proxy, { parent, bindings });
  return proxy;
}

/** A child logger for one job or request, built from its ids in one place (lazily: see lazyChild). */
export function jobLogger(
  logger: Logger,
  ids: { correlationId?: string | undefined; org?: string; task?: string; tab?: string; [key: string]: unknown },
): Logger {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ids)) if (v !== undefined) bindings[k] = v;
  return lazyChild(logger, bindings);
}
