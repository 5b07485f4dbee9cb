import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalProvider, type LocalProviderOptions } from '../src/index.js';

/** A fresh state dir per test file, so records never collide between files or runs. */
export function tempStateDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tabmesh-sandboxes-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function localProvider(stateDir: string, opts: Partial<LocalProviderOptions> = {}): LocalProvider {
  return new LocalProvider({ stateDir, startTimeoutMs: 15_000, sessionTimeoutMs: 15_000, ...opts });
}
