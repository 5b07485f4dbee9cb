import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCode, ProviderError } from '../errors.js';

/** The npm package that ships the sandbox-agent binary for this platform (Linux x64 only here). */
export const CliPackage = '@sandbox-agent/cli-linux-x64';

/** Where the packaged binary sits: `<package>/bin/sandbox-agent`. Null when the package is absent. */
export function packagedBinaryPath(): string | null {
  try {
    const pkgJson = createRequire(import.meta.url).resolve(`${CliPackage}/package.json`);
    return join(dirname(pkgJson), 'bin', 'sandbox-agent');
  } catch {
    return null;
  }
}

/** The fix an operator needs; kept in `details` (logs), never in the message users see. */
const hint = `install ${CliPackage} (pnpm install) or set SANDBOX_AGENT_BIN`;

/**
 * Resolves the sandbox-agent binary (an explicit path wins) and makes sure it can run. pnpm skips the
 * package's `chmod +x` postinstall unless the build is approved, so a non-executable file is fixed here.
 */
export function resolveBinary(explicit?: string): string {
  const path = explicit ?? packagedBinaryPath();
  if (!path) {
    throw new ProviderError(ErrorCode.BinaryMissing, 'sandbox-agent binary not found', { details: { hint } });
  }
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch (cause) {
    throw new ProviderError(ErrorCode.BinaryMissing, 'sandbox-agent binary not found', {
      cause,
      details: { path, hint },
    });
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    try {
      chmodSync(path, 0o755);
    } catch (cause) {
      throw new ProviderError(ErrorCode.BinaryMissing, 'sandbox-agent binary is not executable', {
        cause,
        details: { path },
      });
    }
  }
  return path;
}
