import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import { ConfigError } from '@tabmesh/runtime';

/** A provider failure with one of the documented provider codes (binary_missing, session_refused, …). */
export class ProviderError extends TabmeshError {
  override name = 'ProviderError';
  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown; details?: unknown } = {}) {
    super(code, message, opts);
  }
}

/** A provider's settings lack a secret it cannot run without: a boot failure naming the variables. */
export class CredentialsMissingError extends ConfigError {
  override name = 'CredentialsMissingError';
  constructor(
    readonly provider: string,
    variables: readonly [string, ...string[]],
  ) {
    super(variables, `TABMESH_PROVIDER=${provider} needs ${variables.join(' and ')} in the environment`, {
      code: ErrorCode.CredentialsMissing,
    });
  }
}

export { ErrorCode };
