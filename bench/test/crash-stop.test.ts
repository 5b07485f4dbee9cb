import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

describe('the bench dying of an unhandled rejection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabmesh-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops what is still registered, not what was stopped in order, and exits 1', () => {
    const marker = join(dir, 'marker');
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/crash.ts'), marker],
      {
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(1);
    expect(readFileSync(marker, 'utf8')).toBe('stopped');
    expect(existsSync(`${marker}.forgotten`)).toBe(false);
  });
});
