import { z } from 'zod';

/**
 * The sandbox providers a deployment can name in TABMESH_PROVIDER. libs/providers maps each remote
 * one to its SDK module and credential groups (a Record over these names, so the two cannot drift).
 */
export const RemoteProviderNames = ['docker', 'daytona', 'e2b', 'vercel', 'modal', 'sprites', 'computesdk'] as const;
export type RemoteProviderName = (typeof RemoteProviderNames)[number];
export const ProviderNames = ['local', 'sim', ...RemoteProviderNames] as const;
export type ProviderName = (typeof ProviderNames)[number];

const optional = z.string().min(1).optional();
const positive = (def: number) => z.coerce.number().int().positive().default(def);

/**
 * Every provider's settings, part of the one config schema (config.ts). Formats are checked for every
 * service at start; which credentials must be present is checked where a provider is built
 * (createProvider), since only the workers run one and only they need its secrets.
 */
export const ProviderConfigShape = {
  TABMESH_PROVIDER: z.enum(ProviderNames).default('local'),
  TABMESH_SIM_PROVISION_MS: z.coerce.number().int().min(0).default(2000),
  TABMESH_SIM_SESSION_MS: z.coerce.number().int().min(0).default(200),
  TABMESH_SIM_FAIL_RATE: z.coerce.number().min(0).max(1).default(0),
  /** `memory`: each process keeps its own sim ledger; `nats`: one ledger in KV bucket `sim-ledger` (fault tests). */
  TABMESH_SIM_LEDGER: z.enum(['memory', 'nats']).default('memory'),
  /** Records, locks and logs of local sandboxes. */
  TABMESH_STATE_DIR: z.string().min(1).default('.data'),
  /** Overrides the packaged binary (SANDBOX_AGENT_BIN is the SDK's own name for it). */
  SANDBOX_AGENT_BIN: optional,
  TABMESH_SANDBOX_START_TIMEOUT_MS: positive(15_000),
  TABMESH_SESSION_TIMEOUT_MS: positive(30_000),
  // Remote providers. Vendor SDKs read their credentials from the environment themselves; these are
  // here so a missing or malformed one fails at start, naming the variable.
  TABMESH_DOCKER_IMAGE: optional,
  DOCKER_HOST: optional,
  DAYTONA_API_KEY: optional,
  DAYTONA_API_URL: z.url().optional(),
  DAYTONA_TARGET: optional,
  E2B_API_KEY: optional,
  TABMESH_E2B_TEMPLATE: optional,
  VERCEL_OIDC_TOKEN: optional,
  VERCEL_TOKEN: optional,
  VERCEL_TEAM_ID: optional,
  VERCEL_PROJECT_ID: optional,
  MODAL_TOKEN_ID: optional,
  MODAL_TOKEN_SECRET: optional,
  SPRITES_API_KEY: optional,
  SPRITE_TOKEN: optional,
  SPRITES_TOKEN: optional,
  COMPUTESDK_API_KEY: optional,
};
export type ProviderVariable = keyof typeof ProviderConfigShape;
