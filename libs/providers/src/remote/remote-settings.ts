import type { ProviderConfig, ProviderVariable, RemoteProviderName } from '@tabmesh/runtime';
import { CredentialsMissingError } from '../errors.js';

type Spec = {
  /** `sandbox-agent/<module>` and the vendor package it imports (an optional peer). */
  module: string;
  peer: string;
  /** Alternatives: at least one group must be fully set (e.g. MODAL_TOKEN_ID and MODAL_TOKEN_SECRET). */
  credentials: readonly (readonly [ProviderVariable, ...ProviderVariable[]])[];
  /** The settings it reads; their formats are checked by loadConfig (libs/runtime provider-config.ts). */
  settings: readonly ProviderVariable[];
};

/** The SDK's remote providers: module, vendor package and what each needs from the config. */
export const RemoteProviders: Record<RemoteProviderName, Spec> = {
  docker: { module: 'docker', peer: 'dockerode', credentials: [], settings: ['TABMESH_DOCKER_IMAGE', 'DOCKER_HOST'] },
  daytona: {
    module: 'daytona',
    peer: '@daytonaio/sdk',
    credentials: [['DAYTONA_API_KEY']],
    settings: ['DAYTONA_API_KEY', 'DAYTONA_API_URL', 'DAYTONA_TARGET'],
  },
  e2b: {
    module: 'e2b',
    peer: '@e2b/code-interpreter',
    credentials: [['E2B_API_KEY']],
    settings: ['E2B_API_KEY', 'TABMESH_E2B_TEMPLATE'],
  },
  vercel: {
    module: 'vercel',
    peer: '@vercel/sandbox',
    credentials: [['VERCEL_OIDC_TOKEN'], ['VERCEL_TOKEN', 'VERCEL_TEAM_ID', 'VERCEL_PROJECT_ID']],
    settings: ['VERCEL_OIDC_TOKEN', 'VERCEL_TOKEN', 'VERCEL_TEAM_ID', 'VERCEL_PROJECT_ID'],
  },
  modal: {
    module: 'modal',
    peer: 'modal',
    credentials: [['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET']],
    settings: ['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET'],
  },
  sprites: {
    module: 'sprites',
    peer: '@fly/sprites',
    credentials: [['SPRITES_API_KEY'], ['SPRITE_TOKEN'], ['SPRITES_TOKEN']],
    settings: ['SPRITES_API_KEY', 'SPRITE_TOKEN', 'SPRITES_TOKEN'],
  },
  computesdk: {
    module: 'computesdk',
    peer: 'computesdk',
    credentials: [['COMPUTESDK_API_KEY']],
    settings: ['COMPUTESDK_API_KEY'],
  },
};

export const isRemoteProvider = (name: string): name is RemoteProviderName => Object.hasOwn(RemoteProviders, name);

export type RemoteSettings = { provider: RemoteProviderName; values: Partial<Record<ProviderVariable, string>> };

/**
 * A remote provider's settings out of the parsed config; throws CredentialsMissingError (a
 * ConfigError) naming what is missing from the first credential group when no group is complete.
 */
export function remoteSettingsOf(provider: RemoteProviderName, config: ProviderConfig): RemoteSettings {
  const spec = RemoteProviders[provider];
  const values: Partial<Record<ProviderVariable, string>> = {};
  for (const key of spec.settings) {
    const v = config[key];
    if (typeof v === 'string') values[key] = v;
  }
  const [first, ...others] = spec.credentials;
  if (first && ![first, ...others].some((group) => group.every((k) => values[k] !== undefined))) {
    // The first group is incomplete here, so at least one of its variables is missing.
    throw new CredentialsMissingError(provider, first.filter((k) => values[k] === undefined) as [string, ...string[]]);
  }
  return { provider, values };
}
