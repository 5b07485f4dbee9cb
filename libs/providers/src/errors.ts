import { ErrorCode, TabmeshError } from '@tabmesh/contracts';

/**
 * A provider failure with one of the documented provider codes (binary_missing, session_refused, …).
 *
 * `message` reaches users (it becomes `tab.error.message` through `toInfo()`), so it is a short human
 * sentence with no host paths, ports, tokens or process output. What an operator needs to fix it (the
 * binary path, the server log, stderr) goes into `details`, and the underlying error into `cause`;
 * both are logged with the error and never leave the mesh.
 */
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
