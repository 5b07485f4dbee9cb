import { describe, expect, it } from 'vitest';
import { OriginPolicy } from './origins.js';

describe('OriginPolicy', () => {
  it('allows requests without an Origin, the gateway own origins and the configured ones, nothing else', () => {
    const p = new OriginPolicy('127.0.0.1', ['https://workbench.example']);
    p.addOwnOrigins(8080);
    for (const ok of [
      undefined,
      '',
      'http://localhost:8080',
      'http://127.0.0.1:8080',
      'HTTP://LOCALHOST:8080',
      'https://workbench.example',
    ]) {
      expect(p.allows(ok), String(ok)).toBe(true);
    }
    for (const bad of [
      'http://localhost:8081',
      'https://localhost:8080',
      'http://evil.example',
      'null',
      'http://localhost:8080.evil.example',
    ]) {
      expect(p.allows(bad), bad).toBe(false);
    }
  });

  it('adds the bind address unless it is a wildcard, and drops default ports as browsers do', () => {
    const named = new OriginPolicy('mesh.internal', []);
    named.addOwnOrigins(80);
    expect(named.origins.sort()).toEqual(['http://127.0.0.1', 'http://localhost', 'http://mesh.internal']);
    const wide = new OriginPolicy('0.0.0.0', []);
    wide.addOwnOrigins(8080);
    expect(wide.allows('http://0.0.0.0:8080')).toBe(false);
    const v6 = new OriginPolicy('::1', []);
    v6.addOwnOrigins(8080);
    expect(v6.allows('http://[::1]:8080')).toBe(true);
  });
});
