import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevSecretFile, loadOrCreateDevSecret } from './dev-secret.js';

describe('loadOrCreateDevSecret', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'tabmesh-auth-'));
    dirs.push(d);
    return join(d, '.data');
  };

  it('makes a secret readable by its owner only, then returns the same one, also to concurrent callers', async () => {
    const dir = await tempDir();
    const [a, b, c] = await Promise.all([
      loadOrCreateDevSecret(dir),
      loadOrCreateDevSecret(dir),
      loadOrCreateDevSecret(dir),
    ]);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await loadOrCreateDevSecret(dir)).toBe(a);
    expect((await stat(join(dir, DevSecretFile))).mode & 0o777).toBe(0o600);
  });

  it('tightens a secret file left readable by others, and refuses one too short', async () => {
    const dir = await tempDir();
    await loadOrCreateDevSecret(dir);
    const path = join(dir, DevSecretFile);
    await writeFile(path, 'x'.repeat(40), { mode: 0o644 });
    await chmod(path, 0o644);
    expect(await loadOrCreateDevSecret(dir)).toBe('x'.repeat(40));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFile(path, 'short');
    await expect(loadOrCreateDevSecret(dir)).rejects.toThrow(/at least 32/);
  });
});
