import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { ConfigError, isSecretVariable, loadConfig } from './config.js';

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted a bad configuration');
}

describe('loadConfig: one pass over the environment, provider settings included', () => {
  it('gives every default, for the services and the providers alike', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NATS_URL: 'nats://127.0.0.1:4222',
      TABMESH_REPLICAS: 1,
      TABMESH_PROVIDER: 'local',
      TABMESH_SIM_LEDGER: 'memory',
      TABMESH_STATE_DIR: '.data',
      TABMESH_SANDBOX_START_TIMEOUT_MS: 15_000,
      TABMESH_SESSION_TIMEOUT_MS: 30_000,
    });
    expect(config.SANDBOX_AGENT_BIN).toBeUndefined();
  });

  it('reads the same variables for the sim provider as for the bus, and counts a blank one as unset', () => {
    const config = loadConfig({
      TABMESH_PROVIDER: 'sim',
      TABMESH_SIM_LEDGER: 'nats',
      NATS_URL: 'nats://a:4222',
      TABMESH_REPLICAS: '3',
      TABMESH_STATE_DIR: '  ',
      PATH: '/bin',
    });
    expect(config).toMatchObject({
      TABMESH_PROVIDER: 'sim',
      TABMESH_SIM_LEDGER: 'nats',
      NATS_URL: 'nats://a:4222',
      TABMESH_REPLICAS: 3,
      TABMESH_STATE_DIR: '.data',
    });
    expect(config).not.toHaveProperty('PATH');
  });

  it('fails with a ConfigError (config_invalid, a TabmeshError) naming every wrong variable and its value', () => {
    const err = failure({ TABMESH_REPLICAS: '0', TABMESH_SIM_FAIL_RATE: '2', LOG_LEVEL: 'loud' });
    expect(err).toBeInstanceOf(TabmeshError);
    expect(err.code).toBe(ErrorCode.ConfigInvalid);
    expect(err.retryable).toBe(false);
    expect([...err.variables].sort()).toEqual(['LOG_LEVEL', 'TABMESH_REPLICAS', 'TABMESH_SIM_FAIL_RATE']);
    expect(err.message).toContain('TABMESH_REPLICAS="0"');
    expect(err.message).toContain('LOG_LEVEL="loud"');
  });

  it('never puts a secret in its message', () => {
    expect(
      ['MODAL_TOKEN_SECRET', 'DAYTONA_API_KEY', 'NATS_PASSWORD', 'VERCEL_OIDC_TOKEN', 'NATS_CREDS'].every(
        isSecretVariable,
      ),
    ).toBe(true);
    expect(['NATS_URL', 'TABMESH_PROVIDER', 'DAYTONA_API_URL', 'VERCEL_TEAM_ID'].some(isSecretVariable)).toBe(false);
    const err = failure({
      TABMESH_PROVIDER: 'nimbus',
      DAYTONA_API_KEY: 'sekrit-7d1',
      MODAL_TOKEN_SECRET: 'sekrit-9e2',
    });
    expect(err.variable).toBe('TABMESH_PROVIDER');
    expect(err.message).not.toMatch(/sekrit/);
  });
});
