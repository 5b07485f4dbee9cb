import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsServerBinary } from '@tabmesh/nats-launcher';
import { afterAll, describe, expect, it } from 'vitest';

// deploy/up.sh's bus passwords reach nats-server as `$VAR` values, which it parses as config.
const script = join(import.meta.dirname, '../../deploy/bus-password.sh');
const dir = mkdtempSync(join(tmpdir(), 'tabmesh-bus-password-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether nats-server accepts a config whose users' passwords are these values, as deploy/ passes them. */
function serverAccepts(passwords: string[]): boolean {
  const conf = join(dir, 'users.conf');
  const users = passwords.map((_, i) => `{ user: u${i}, password: $P${i} }`).join(', ');
  writeFileSync(conf, `authorization { users = [ ${users} ] }\n`);
  const env = { ...process.env, ...Object.fromEntries(passwords.map((p, i) => [`P${i}`, p])) };
  return spawnSync(natsServerBinary(), ['-c', conf, '-t'], { env, stdio: 'ignore' }).status === 0;
}

describe('bus passwords made by deploy/up.sh', () => {
  it('are letters and digits starting with a letter, and nats-server accepts every one', () => {
    const made = execFileSync('bash', ['-c', `source ${script}; for i in $(seq 300); do new_bus_password; done`], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    expect(made).toHaveLength(300);
    for (const p of made) expect(p).toMatch(/^[A-Za-z][A-Za-z0-9]{20,}$/);
    expect(new Set(made).size).toBe(300);
    expect(serverAccepts(made)).toBe(true);
  });

  it('the check itself refuses a value nats-server reads as a number with a unit', () => {
    expect(serverAccepts(['7kb8Qx'])).toBe(false);
  });
});
