import { ErrorCode, TabmeshError } from '@tabmesh/contracts';

/** A provider failure with one of the documented provider codes (binary_missing, session_refused, …). */
export class ProviderError extends TabmeshError {
  override name = 'ProviderError';
  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown; details?: unknown } = {}) {
    super(code, message, opts);
  }
}

/** Settings for a provider are missing a secret it cannot run without. */
export class CredentialsMissingError extends ProviderError {
  override name = 'CredentialsMissingError';
  constructor(
    readonly provider: string,
    readonly variables: string[],
  ) {
    super(ErrorCode.CredentialsMissing, `TABMESH_PROVIDER=${provider} needs ${variables.join(' and ')} in the environment`);
  }
}

export { ErrorCode };
