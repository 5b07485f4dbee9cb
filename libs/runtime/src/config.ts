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
  /** Bind address of the gateway listeners: loopback unless opened on purpose (containers set 0.0.0.0). */
  GATEWAY_HOST: z.string().default('127.0.0.1'),
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

  // --- Access (DESIGN.md "Access"): who may call the gateway, and from which pages. ---
  /** HS256 secret the gateway verifies bearer tokens with. */
  TABMESH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Key set of an identity provider whose tokens the gateway accepts. */
  TABMESH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Required `iss` of tokens, when set. */
  TABMESH_JWT_ISSUER: z.string().min(1).optional(),
  /** Required `aud` of tokens, when set. */
  TABMESH_JWT_AUDIENCE: z.string().min(1).optional(),
  /** `off` runs the gateway without tokens (every request logs a warning); only for local experiments. */
  TABMESH_AUTH: z.enum(['on', 'off']).default('on'),
  /** Extra page origins allowed to call the gateway, comma-separated (its own origins always are). */
  GATEWAY_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim().replace(/\/+$/, '').toLowerCase()).filter(Boolean))
    .refine((list) => list.every((o) => o === 'null' || (URL.canParse(o) && new URL(o).origin === o)), 'must be origins such as https://app.example.com'),
  /** Lets the gateway run on uWebSockets.js's JavaScript fallback (ws@8.13.0) when the native addon does not load. */
  GATEWAY_ALLOW_JS_WEBSOCKETS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
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
