import { ErrorCode } from '@tabmesh/contracts';
import { ConfigError, loadConfig } from '@tabmesh/runtime';
import { describe, expect, it } from 'vitest';
import { CredentialsMissingError, createProvider, LocalProvider, remoteSettingsOf, SimProvider } from '../src/index.js';

/** The config a service would parse at start from this environment. */
const config = (env: Record<string, string>) =>
  loadConfig({ TABMESH_SIM_PROVISION_MS: '10', TABMESH_SIM_SESSION_MS: '10', ...env });

async function configFailure(run: () => unknown): Promise<ConfigError> {
  const err = await Promise.resolve()
    .then(run)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('provider settings (one config, parsed by loadConfig)', () => {
  it('builds sim and local from the parsed config', async () => {
    expect(await createProvider(config({ TABMESH_PROVIDER: 'sim' }))).toBeInstanceOf(SimProvider);
    const local = await createProvider(
      config({ TABMESH_PROVIDER: 'local', TABMESH_STATE_DIR: '/tmp/tabmesh-settings-test' }),
    );
    expect(local).toBeInstanceOf(LocalProvider);
    expect((local as LocalProvider).records.dir).toContain('/tmp/tabmesh-settings-test');
  });

  it('refuses an unknown provider at start: a ConfigError naming TABMESH_PROVIDER and the known ones', async () => {
    const err = await configFailure(() => config({ TABMESH_PROVIDER: 'nimbus' }));
    expect(err.code).toBe(ErrorCode.ConfigInvalid);
    expect(err.variables).toEqual(['TABMESH_PROVIDER']);
    expect(err.message).toMatch(/daytona/);
    expect(err.message).toContain('TABMESH_PROVIDER="nimbus"');
  });

  it.each([
    ['daytona', 'DAYTONA_API_KEY'],
    ['e2b', 'E2B_API_KEY'],
    ['modal', 'MODAL_TOKEN_ID'],
    ['sprites', 'SPRITES_API_KEY'],
    ['vercel', 'VERCEL_OIDC_TOKEN'],
    ['computesdk', 'COMPUTESDK_API_KEY'],
  ])('%s without credentials fails at start with credentials_missing naming %s', async (provider, variable) => {
    const err = await configFailure(() => createProvider(config({ TABMESH_PROVIDER: provider, [variable]: '' })));
    expect(err).toBeInstanceOf(CredentialsMissingError);
    expect(err.code).toBe(ErrorCode.CredentialsMissing);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
  });

  it('accepts any complete credential group; names what the first group lacks, never a value', async () => {
    const modal = config({ TABMESH_PROVIDER: 'modal', MODAL_TOKEN_ID: 'id', MODAL_TOKEN_SECRET: 's' });
    expect(remoteSettingsOf('modal', modal).values.MODAL_TOKEN_ID).toBe('id');
    const half = await configFailure(() =>
      remoteSettingsOf('modal', config({ TABMESH_PROVIDER: 'modal', MODAL_TOKEN_ID: 'id-4f7c' })),
    );
    expect(half.variables).toEqual(['MODAL_TOKEN_SECRET']);
    expect(half.message).not.toContain('id-4f7c');
    const vercel = config({
      TABMESH_PROVIDER: 'vercel',
      VERCEL_TOKEN: 't',
      VERCEL_TEAM_ID: 'team',
      VERCEL_PROJECT_ID: 'p',
    });
    expect(remoteSettingsOf('vercel', vercel).provider).toBe('vercel');
    expect(remoteSettingsOf('docker', config({ TABMESH_PROVIDER: 'docker' })).provider).toBe('docker'); // no credentials
  });

  it('a malformed provider setting is a ConfigError from loadConfig naming it, not an invalid_request', async () => {
    const url = await configFailure(() =>
      config({ TABMESH_PROVIDER: 'daytona', DAYTONA_API_KEY: 'k', DAYTONA_API_URL: 'not a url' }),
    );
    expect(url.variables).toEqual(['DAYTONA_API_URL']);
    const local = await configFailure(() =>
      config({ TABMESH_PROVIDER: 'local', TABMESH_SANDBOX_START_TIMEOUT_MS: 'soon' }),
    );
    expect(local.code).toBe(ErrorCode.ConfigInvalid);
    expect(local.variables).toEqual(['TABMESH_SANDBOX_START_TIMEOUT_MS']);
    expect(local.message).toContain('TABMESH_SANDBOX_START_TIMEOUT_MS="soon"');
    const sim = await configFailure(() => config({ TABMESH_PROVIDER: 'sim', TABMESH_SIM_LEDGER: 'redis' }));
    expect(sim.variables).toEqual(['TABMESH_SIM_LEDGER']);
  });

  it('a remote provider whose vendor SDK is not installed fails at start, naming TABMESH_PROVIDER and the package', async () => {
    const err = await configFailure(() => createProvider(config({ TABMESH_PROVIDER: 'e2b', E2B_API_KEY: 'key' })));
    expect(err.code).toBe(ErrorCode.ConfigInvalid);
    expect(err.variables).toEqual(['TABMESH_PROVIDER']);
    expect(err.message).toContain('@e2b/code-interpreter');
  });
});
