import uWS from 'uWebSockets.js';
import { ConfigError, type Logger } from '@tabmesh/runtime';

/**
 * Whether the loaded uWebSockets.js is the native addon. When the addon does not load, the package
 * (src/uws.js) quietly returns a JavaScript imitation built on ws@8.13.0 (CVE-2024-37890) with only
 * `App` and two socket helpers; the native module also exports `SSLApp`, `getParts` and the
 * compressor constants.
 */
export function isNativeWebSockets(mod: unknown = uWS): boolean {
  const m = mod as Record<string, unknown> | null;
  return typeof m?.getParts === 'function' && typeof m.SSLApp === 'function' && typeof m.SHARED_COMPRESSOR === 'number';
}

/** Refuses to run on the fallback unless `GATEWAY_ALLOW_JS_WEBSOCKETS=true` allows it (then warns). */
export function requireNativeWebSockets(allowJs: boolean, logger: Logger, mod: unknown = uWS): void {
  if (isNativeWebSockets(mod)) return;
  if (!allowJs) {
    throw new ConfigError(
      ['GATEWAY_ALLOW_JS_WEBSOCKETS'],
      'the native uWebSockets.js addon did not load (no build for this platform or Node version), and its JavaScript fallback runs on ws@8.13.0; set GATEWAY_ALLOW_JS_WEBSOCKETS=true to run on it anyway (development only)',
    );
  }
  logger.warn(
    'uWebSockets.js runs on its JavaScript fallback (ws@8.13.0), allowed by GATEWAY_ALLOW_JS_WEBSOCKETS=true: not for production',
  );
}
