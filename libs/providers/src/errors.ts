import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import { ConfigError } from '@tabmesh/runtime';

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
  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; details?: unknown } = {},
  ) {
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
