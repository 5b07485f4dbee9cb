import { z } from 'zod';
import { describeZodError } from '@tabmesh/contracts';
import { CredentialsMissingError, ErrorCode, ProviderError } from '../errors.js';

type Env = Record<string, string | undefined>;

const optional = z.string().min(1).optional();

/**
 * Remote sandbox-agent providers and what each reads from the environment. `credentials` lists
 * alternatives: at least one group must be fully set (e.g. MODAL_TOKEN_ID and MODAL_TOKEN_SECRET).
 */
export const RemoteProviders = {
  docker: { module: 'docker', peer: 'dockerode', credentials: [] as string[][], schema: z.object({ TABMESH_DOCKER_IMAGE: optional, DOCKER_HOST: optional }) },
  daytona: { module: 'daytona', peer: '@daytonaio/sdk', credentials: [['DAYTONA_API_KEY']], schema: z.object({ DAYTONA_API_KEY: optional, DAYTONA_API_URL: z.url().optional(), DAYTONA_TARGET: optional }) },
  e2b: { module: 'e2b', peer: '@e2b/code-interpreter', credentials: [['E2B_API_KEY']], schema: z.object({ E2B_API_KEY: optional, TABMESH_E2B_TEMPLATE: optional }) },
  vercel: { module: 'vercel', peer: '@vercel/sandbox', credentials: [['VERCEL_OIDC_TOKEN'], ['VERCEL_TOKEN', 'VERCEL_TEAM_ID', 'VERCEL_PROJECT_ID']], schema: z.object({ VERCEL_OIDC_TOKEN: optional, VERCEL_TOKEN: optional, VERCEL_TEAM_ID: optional, VERCEL_PROJECT_ID: optional }) },
  modal: { module: 'modal', peer: 'modal', credentials: [['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET']], schema: z.object({ MODAL_TOKEN_ID: optional, MODAL_TOKEN_SECRET: optional }) },
  sprites: { module: 'sprites', peer: '@fly/sprites', credentials: [['SPRITES_API_KEY'], ['SPRITE_TOKEN'], ['SPRITES_TOKEN']], schema: z.object({ SPRITES_API_KEY: optional, SPRITE_TOKEN: optional, SPRITES_TOKEN: optional }) },
  computesdk: { module: 'computesdk', peer: 'computesdk', credentials: [['COMPUTESDK_API_KEY']], schema: z.object({ COMPUTESDK_API_KEY: optional }) },
} as const;
export type RemoteProviderName = keyof typeof RemoteProviders;

export const isRemoteProvider = (name: string): name is RemoteProviderName => Object.hasOwn(RemoteProviders, name);

export type RemoteSettings = { provider: RemoteProviderName; values: Record<string, string | undefined> };

/** Reads and validates a remote provider's settings at start; names the missing variable. */
export function loadRemoteSettings(provider: RemoteProviderName, env: Env): RemoteSettings {
  const spec = RemoteProviders[provider];
  const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const picked = Object.fromEntries(Object.keys(spec.schema.shape).map((k) => [k, blank(env[k])]));
  const parsed = spec.schema.safeParse(picked);
  if (!parsed.success) {
    throw new ProviderError(ErrorCode.InvalidRequest, `TABMESH_PROVIDER=${provider}: ${describeZodError(parsed.error)}`);
  }
  const values = parsed.data as Record<string, string | undefined>;
  const groups = spec.credentials as readonly (readonly string[])[];
  if (groups.length > 0 && !groups.some((g) => g.every((k) => values[k] !== undefined))) {
    const first = groups[0] ?? [];
    throw new CredentialsMissingError(provider, first.filter((k) => values[k] === undefined).length ? first.filter((k) => values[k] === undefined) : [...first]);
  }
  return { provider, values };
}
