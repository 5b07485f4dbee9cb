import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const rate = z.coerce.number().min(0).max(1).default(0);

/**
 * One configuration for every service, read from the environment under the same names everywhere.
 */
export const ConfigSchema = z.object({
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TABMESH_PROVIDER: z.string().min(1).default('local'),
  TABMESH_AGENT: z.string().min(1).default('mock'),
  TABMESH_SIM_PROVISION_MS: int(2000),
  TABMESH_SIM_SESSION_MS: int(200),
  TABMESH_SIM_FAIL_RATE: rate,
  GATEWAY_HTTP_PORT: int(8080),
  GATEWAY_WS_PORT: int(8081),
  /** Bind address of the gateway listeners. */
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  /** Per-socket send buffer cap: past it the client is dropped and resumes from its last revision. */
  GATEWAY_WS_MAX_BACKPRESSURE: int(1024 * 1024, 1024),
  /** Jobs one worker process runs at once. */
  TABMESH_CONCURRENCY: int(8, 1),
  /** How long a job may go without an ack or heartbeat before JetStream redelivers it. */
  TABMESH_ACK_WAIT_MS: int(30_000, 1000),
  /** Deliveries of one job before its tab or task is put in `error`. */
  TABMESH_MAX_DELIVER: int(5, 1),
  /** First retry delay after a failed step; doubles each attempt. */
  TABMESH_RETRY_BASE_MS: int(1000, 10),
  TABMESH_DEDUPE_WINDOW_MS: int(120_000, 1000),
  /** Replicas of streams and buckets: 1 for one server, 3 for the deploy/ cluster. */
  TABMESH_REPLICAS: int(1, 1),
  /** How often tab-registry re-enqueues jobs for pending tabs whose job may have been lost. */
  TABMESH_SWEEP_INTERVAL_MS: int(5000, 100),
  /** A pending tab untouched this long is re-enqueued by the sweep. */
  TABMESH_SWEEP_AFTER_MS: int(10_000, 100),
  /** How often tab-registry refreshes "why still pending" (queue position, no worker running). */
  TABMESH_QUEUE_OBSERVE_MS: int(1000, 100),
  /** How long a closed tab stays readable by id. */
  TABMESH_CLOSED_RETENTION_MS: int(24 * 3600_000, 1000),
  /** Bound on the in-flight work a stopping worker waits for before it naks what is left. */
  TABMESH_DRAIN_TIMEOUT_MS: int(10_000, 100),
  /** Port of /healthz, /readyz and /metrics of a service without an HTTP API (the gateway serves them on its own); 0 picks a free one. */
  TABMESH_OPS_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once, at start; names the variable that is wrong. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])),
  );
  const result = ConfigSchema.safeParse(relevant);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  return result.data;
}
