import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DevSecretFile = 'dev-jwt-secret';
const MinSecretLength = 32;

/**
 * The development HS256 secret under `dir` (`.data/` of `pnpm start`): read when it exists, else
 * made (32 random bytes) and written readable by its owner only. Whoever can read it can mint tokens.
 */
export async function loadOrCreateDevSecret(dir: string): Promise<string> {
  const path = join(dir, DevSecretFile);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Written whole under a private name, then linked into place: a concurrent start (`pnpm token`
  // while `pnpm start` boots) sees either no file or a complete one, and the first link wins.
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await link(draft, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Made by an earlier run: keep it, but never leave it readable by others.
    await chmod(path, 0o600);
  } finally {
    await rm(draft, { force: true });
  }
  const secret = (await readFile(path, 'utf8')).trim();
  if (secret.length < MinSecretLength)
    throw new Error(`${path}: the development secret must be at least ${MinSecretLength} characters`);
  return secret;
}
