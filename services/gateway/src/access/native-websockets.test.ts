import uWS from 'uWebSockets.js';
import { createRequire } from 'node:module';
import { ConfigError } from '@tabmesh/runtime';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isNativeWebSockets, requireNativeWebSockets } from './native-websockets.js';

// The package's own JavaScript fallback, as src/uws.js loads it when the addon does not.
const fallback: unknown = createRequire(import.meta.url)('uWebSockets.js/dist/index.js');

describe('native uWebSockets.js check', () => {
  it('tells the native addon from the JavaScript fallback', () => {
    expect(isNativeWebSockets(uWS)).toBe(true);
    expect(isNativeWebSockets(fallback)).toBe(false);
    expect(typeof (fallback as { App?: unknown }).App).toBe('function');
  });

  it('refuses the fallback unless GATEWAY_ALLOW_JS_WEBSOCKETS allows it, then warns', () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) },
    );
    expect(() => requireNativeWebSockets(false, logger, fallback)).toThrow(ConfigError);
    expect(() => requireNativeWebSockets(false, logger, fallback)).toThrow(/GATEWAY_ALLOW_JS_WEBSOCKETS=true/);
    expect(lines).toEqual([]);
    requireNativeWebSockets(true, logger, fallback);
    expect(lines).toMatchObject([{ level: 40, msg: expect.stringContaining('fallback') }]);
    requireNativeWebSockets(false, logger, uWS);
    expect(lines).toHaveLength(1);
  });
});
