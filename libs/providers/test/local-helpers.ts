import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueId } from '@tabmesh/testkit';
import { LocalProvider, type LocalProviderOptions, type SessionRequest } from '../src/index.js';

/** A fresh state dir per test file, so records never collide between files or runs. */
export function tempStateDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tabmesh-sandboxes-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function localProvider(stateDir: string, opts: Partial<LocalProviderOptions> = {}): LocalProvider {
  return new LocalProvider({ stateDir, startTimeoutMs: 15_000, sessionTimeoutMs: 15_000, ...opts });
}

/** A session request for a fresh tab of task `t` with the mock agent; `over` sets what the test cares about. */
export function sessionRequest(org: string, over: Partial<SessionRequest> = {}): SessionRequest {
  return {
    org,
    task: 't',
    tab: uniqueId('tab'),
    attempt: 1,
    agent: 'mock',
    model: null,
    signal: new AbortController().signal,
    ...over,
  };
}
