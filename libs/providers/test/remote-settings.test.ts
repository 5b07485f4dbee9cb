import { ErrorCode } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { CredentialsMissingError, LocalProvider, ProviderError, SimProvider, createProvider, loadRemoteSettings } from '../src/index.js';

const settings = (provider: string) => ({ TABMESH_PROVIDER: provider, TABMESH_SIM_PROVISION_MS: 10, TABMESH_SIM_SESSION_MS: 10, TABMESH_SIM_FAIL_RATE: 0 });

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('createProvider', () => {
  it('builds sim and local', async () => {
    expect(await createProvider(settings('sim'), {})).toBeInstanceOf(SimProvider);
    expect(await createProvider(settings('local'), { TABMESH_STATE_DIR: '/tmp/tabmesh-settings-test' })).toBeInstanceOf(LocalProvider);
  });

  it('refuses an unknown provider, naming the known ones', async () => {
    const err = await failure(createProvider(settings('nimbus'), {}));
    expect(err.code).toBe(ErrorCode.InvalidRequest);
    expect(err.message).toMatch(/daytona/);
  });

  it.each([
    ['daytona', 'DAYTONA_API_KEY'],
    ['e2b', 'E2B_API_KEY'],
    ['modal', 'MODAL_TOKEN_ID'],
    ['sprites', 'SPRITES_API_KEY'],
    ['vercel', 'VERCEL_OIDC_TOKEN'],
    ['computesdk', 'COMPUTESDK_API_KEY'],
  ])('%s without credentials fails at start with credentials_missing naming %s', async (provider, variable) => {
    const err = await failure(createProvider(settings(provider), { [variable]: '' }));
    expect(err).toBeInstanceOf(CredentialsMissingError);
    expect(err.code).toBe(ErrorCode.CredentialsMissing);
    expect(err.message).toContain(variable);
  });

  it('accepts any complete credential group and validates the other settings', () => {
    expect(loadRemoteSettings('modal', { MODAL_TOKEN_ID: 'id', MODAL_TOKEN_SECRET: 's' }).values.MODAL_TOKEN_ID).toBe('id');
    expect(() => loadRemoteSettings('modal', { MODAL_TOKEN_ID: 'id' })).toThrow(/MODAL_TOKEN_SECRET/);
    expect(loadRemoteSettings('vercel', { VERCEL_TOKEN: 't', VERCEL_TEAM_ID: 'team', VERCEL_PROJECT_ID: 'p' }).provider).toBe('vercel');
    expect(() => loadRemoteSettings('daytona', { DAYTONA_API_KEY: 'k', DAYTONA_API_URL: 'not a url' })).toThrow(/DAYTONA_API_URL/);
    expect(loadRemoteSettings('docker', {}).provider).toBe('docker'); // docker needs no credentials
  });

  it('a remote provider whose vendor SDK is not installed fails at start with a clear message', async () => {
    const err = await failure(createProvider(settings('e2b'), { E2B_API_KEY: 'key' }));
    expect(err.code).toBe(ErrorCode.ProvisionFailed);
    expect(err.message).toContain('@e2b/code-interpreter');
  });

  it('local settings are validated too', async () => {
    const err = await failure(createProvider(settings('local'), { TABMESH_SANDBOX_START_TIMEOUT_MS: 'soon' }));
    expect(err.message).toContain('TABMESH_SANDBOX_START_TIMEOUT_MS');
  });
});
