import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import { z } from 'zod';
import { ProviderConfigShape, type ProviderVariable } from './provider-config.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/**
 * One configuration for every service, read from the environment under the same names everywhere,
 * provider settings included (provider-config.ts). Service and library code reads `process.env` only
 * through loadConfig (the local provider passes its environment on to sandbox children, unread).
 */
export const ConfigSchema = z.object({
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  // --- The service's bus identity (DESIGN.md Access, "Bus"); unset: anonymous, for open servers only. ---
  /** NATS user of this service (its kind: `gateway`, `tab-registry`, …; see BusPermissions). */
  NATS_USER: z.string().min(1).optional(),
  /** Password of NATS_USER. */
  NATS_PASSWORD: z.string().min(1).optional(),
  /** A NATS credentials file (user JWT and nkey seed), instead of NATS_USER/NATS_PASSWORD. */
  NATS_CREDS: z.string().min(1).optional(),
  /**
   * The `setup` identity, given to the process that sets the bus up (creates or updates streams,
   * buckets, durable consumers) on a short-lived connection of its own before it binds as itself.
   * A service with its own user and no setup identity only binds, and waits for the bus to exist.
   */
  NATS_SETUP_USER: z.string().min(1).optional(),
  NATS_SETUP_PASSWORD: z.string().min(1).optional(),
  NATS_SETUP_CREDS: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TABMESH_AGENT: z.string().min(1).default('mock'),
  GATEWAY_HTTP_PORT: int(8080),
  GATEWAY_WS_PORT: int(8081),
  /** Bind address of the gateway listeners: loopback unless opened on purpose (containers set 0.0.0.0). */
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  /** Per-socket send buffer cap: past it the client is dropped and resumes from its last revision. */
  GATEWAY_WS_MAX_BACKPRESSURE: int(1024 * 1024, 1024),
  /** Jobs one worker process runs at once; the default fits the provider (providerDefaults). */
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
  /**
   * A pending tab untouched this long whose job is not waiting in its queue is taken to have lost
   * it, and gets a job under a new dedupe id (see PendingSweep). Above any step a provider takes.
   */
  TABMESH_SWEEP_LOST_AFTER_MS: int(60_000, 1000),
  /** How often tab-registry refreshes "why still pending" (queue position, no worker running). */
  TABMESH_QUEUE_OBSERVE_MS: int(1000, 100),
  /** How long a closed tab stays readable by id. */
  TABMESH_CLOSED_RETENTION_MS: int(24 * 3600_000, 1000),
  /** Bound on the in-flight work a stopping worker waits for before it naks what is left. */
  TABMESH_DRAIN_TIMEOUT_MS: int(10_000, 100),
  ...ProviderConfigShape,

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
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, '').toLowerCase())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((o) => o === 'null' || (URL.canParse(o) && new URL(o).origin === o)),
      'must be origins such as https://app.example.com',
    ),
  /** Lets the gateway run on uWebSockets.js's JavaScript fallback (ws@8.13.0) when the native addon does not load. */
  GATEWAY_ALLOW_JS_WEBSOCKETS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),

  // Sandbox bounds (DESIGN.md Limits); the provider-dependent defaults come from providerDefaults.
  /** Live sandboxes of the whole deployment, across provisioners; 0 is no cap. */
  TABMESH_MAX_SANDBOXES: int(0),
  /** A task with no open tab this long has its sandbox destroyed and is unprovisioned again. */
  TABMESH_SANDBOX_IDLE_MS: int(900_000, 10),
  /** How often provisioners check that recorded sandboxes still answer (a dead one is noticed within ~2 intervals). */
  TABMESH_SANDBOX_WATCH_MS: int(10_000, 100),

  // Limits (DESIGN "Limits"; README table): what a caller can make the mesh store.
  /** Open (not closed) tabs in one task; the next create is `429 limit_reached`. */
  TABMESH_MAX_TABS_PER_TASK: int(100, 1),
  /** Jobs waiting in the PROVISION work queue; a full queue refuses new jobs (the create fails, 503). */
  TABMESH_PROVISION_QUEUE_MAX_MSGS: int(100_000, 1),
  /** Jobs waiting in the SESSIONS work queue; as above. */
  TABMESH_SESSION_QUEUE_MAX_MSGS: int(1_000_000, 1),
  /** Bytes of each work queue (PROVISION, SESSIONS). */
  TABMESH_QUEUE_MAX_BYTES: int(512 * 1024 * 1024, 1024),
  /** Bytes of KV `tabs` (history included); full, writes fail instead of dropping tabs. */
  TABMESH_TABS_MAX_BYTES: int(2048 * 1024 * 1024, 1024),
  /** Bytes of KV `tasks` and of KV `tab-slots`, each. */
  TABMESH_TASKS_MAX_BYTES: int(256 * 1024 * 1024, 1024),
  /** Bytes of KV `tab-requests`; its age bound is TABMESH_CLOSED_RETENTION_MS plus one hour. */
  TABMESH_TAB_REQUESTS_MAX_BYTES: int(256 * 1024 * 1024, 1024),
  /** Age bound of the session-events stream and KV `sessions` (a closed tab's are pruned with it). */
  TABMESH_SESSIONS_MAX_AGE_MS: int(30 * 24 * 3600_000, 1000),
  /** Bytes of the session-events stream (SESSION_EVENTS). */
  TABMESH_SESSION_EVENTS_MAX_BYTES: int(2048 * 1024 * 1024, 1024),
  /** Bytes of KV `sessions`. */
  TABMESH_SESSIONS_MAX_BYTES: int(256 * 1024 * 1024, 1024),

  /** Port of /healthz, /readyz and /metrics of a service without an HTTP API (the gateway serves them on its own); 0 picks a free one. */
  TABMESH_OPS_PORT: z.coerce.number().int().min(0).max(65535).default(9090),

  // Gateway bounds (DESIGN.md Limits): what one token (`sub`) may spend at one gateway process.
  /** Requests per second per token, bursts up to 5x; subscribe frames have buckets of the same rate; 0 turns these off. */
  GATEWAY_RATE_LIMIT: int(50),
  /** Open WebSocket connections per token; the next upgrade is refused with 429. */
  GATEWAY_MAX_SOCKETS_PER_TOKEN: int(64, 1),
});
export type Config = z.infer<typeof ConfigSchema>;

/** What createProvider reads: the provider settings, and where the sim ledger's bucket lives. */
export type ProviderConfig = Pick<
  Config,
  ProviderVariable | 'NATS_URL' | 'TABMESH_REPLICAS' | 'NATS_USER' | 'NATS_PASSWORD' | 'NATS_CREDS'
>;

/**
 * A boot failure: a setting is missing or malformed, so the service must not run. Names the
 * variables to fix (the first is the one most to blame); the message never carries a secret's value.
 */
export class ConfigError extends TabmeshError {
  override name = 'ConfigError';
  readonly variables: readonly [string, ...string[]];

  constructor(
    variables: readonly [string, ...string[]],
    message: string,
    opts: { code?: ErrorCode; cause?: unknown } = {},
  ) {
    super(opts.code ?? ErrorCode.ConfigInvalid, message, { cause: opts.cause, details: { variables } });
    this.variables = variables;
  }

  get variable(): string {
    return this.variables[0];
  }
}

/** Sandboxes one machine holds with the `local` provider (sandbox-agent servers, ~15 MB each, plus their agents). */
const LocalMaxSandboxes = 32;
/** `local` starts real processes on this machine: no more at once than the cap and the machine allow. */
const LocalConcurrency = 8;
/**
 * I/O-bound providers (`sim`, remote SDK providers) spend a job waiting on a timer or a network call,
 * not on this process's CPU: a worker keeps many in flight, or a provider taking seconds per sandbox
 * starves the queue (8 jobs of 1.5 s are 5 tasks/s).
 */
const IoBoundConcurrency = 256;

/**
 * Defaults that depend on the provider, in one place: `local` runs real processes on this machine,
 * so its sandboxes are capped and a provisioner starts no more at once than the cap allows; other
 * providers have no cap by default and keep many jobs in flight per process. Only variables the
 * environment leaves unset are filled.
 */
export function providerDefaults(env: Record<string, string | undefined>): Record<string, string> {
  const set = (k: string) => env[k] !== undefined && env[k] !== '';
  const out: Record<string, string> = {};
  const local = (env.TABMESH_PROVIDER || 'local') === 'local';
  if (local && !set('TABMESH_MAX_SANDBOXES')) out.TABMESH_MAX_SANDBOXES = String(LocalMaxSandboxes);
  const cap = Number(set('TABMESH_MAX_SANDBOXES') ? env.TABMESH_MAX_SANDBOXES : (out.TABMESH_MAX_SANDBOXES ?? 0));
  if (!set('TABMESH_CONCURRENCY')) {
    if (!local) out.TABMESH_CONCURRENCY = String(IoBoundConcurrency);
    else if (Number.isInteger(cap) && cap > 0) out.TABMESH_CONCURRENCY = String(Math.min(LocalConcurrency, cap));
  }
  return out;
}

/** A user needs its password; a creds file excludes a user/password pair (of the same identity). */
function natsIdentityRules(c: z.infer<typeof ConfigSchema>, ctx: z.RefinementCtx): void {
  const pairs = [
    ['NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS'],
    ['NATS_SETUP_USER', 'NATS_SETUP_PASSWORD', 'NATS_SETUP_CREDS'],
  ] as const;
  for (const [user, password, creds] of pairs) {
    if ((c[user] === undefined) !== (c[password] === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [c[user] ? password : user],
        message: `${user} and ${password} go together`,
      });
    if (c[user] !== undefined && c[creds] !== undefined)
      ctx.addIssue({ code: 'custom', path: [creds], message: `either ${creds} or ${user}/${password}, not both` });
  }
}

/** Variables whose value must never appear in a message or a log line. */
export const isSecretVariable = (name: string): boolean => /SECRET|PASSWORD|TOKEN|_KEY|CREDS/.test(name);

const blank = (v: string | undefined): boolean => v === undefined || v.trim() === '';

/**
 * Parses the environment once, at start. A blank variable counts as unset. Throws a ConfigError
 * naming every variable that is wrong, with the offending value unless it is a secret.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const set: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && !blank(value)) set[key] = value;
  }
  const result = ConfigSchema.superRefine(natsIdentityRules).safeParse({ ...providerDefaults(env), ...set });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(root)');
    const shown = name in set && !isSecretVariable(name) ? `${name}=${JSON.stringify(set[name])}` : name;
    return { name, text: `${shown}: ${issue.message}` };
  });
  const variables = [...new Set(problems.map((p) => p.name))] as [string, ...string[]];
  throw new ConfigError(variables, `invalid configuration: ${problems.map((p) => p.text).join('; ')}`);
}
