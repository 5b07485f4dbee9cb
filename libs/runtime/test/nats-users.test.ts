import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusIdentities, BusPermissions, SimLedgerGrant } from '@tabmesh/contracts';
import { repoRoot } from '@tabmesh/testkit';
import { describe, expect, it } from 'vitest';
import { busUsers, localBusPasswords, renderDeployAccounts, renderNatsAuthorization } from '../src/index.js';

describe('bus users', () => {
  it('deploy/nats/accounts.conf is what `pnpm nats:users` renders from BusPermissions (no drift)', () => {
    const file = readFileSync(join(repoRoot, 'deploy', 'nats', 'accounts.conf'), 'utf8');
    expect(file, 'deploy/nats/accounts.conf is stale: run `npx -y pnpm@10 nats:users`').toBe(
      renderDeployAccounts(SimLedgerGrant),
    );
  });

  it('renders every identity, reads $VAR passwords from the environment and quotes the rest', () => {
    const conf = renderNatsAuthorization(busUsers((u) => (u === 'gateway' ? '$NATS_GATEWAY_PASSWORD' : 'p"w')));
    for (const u of BusIdentities) expect(conf).toContain(`user: "${u}"`);
    expect(conf).toContain('password: $NATS_GATEWAY_PASSWORD');
    expect(conf).toContain('password: "p\\"w"');
    // No response tracking (it made nats-server scan every reply subject it had delivered); the
    // registry answers into inboxes, never a worker's or the set-up's.
    expect(conf).not.toContain('allow_responses');
    expect(BusPermissions['tab-registry'].publish).toContain('_INBOX.>');
    expect(BusPermissions['tab-registry'].publishDeny).toEqual([
      '_INBOX.provisioner.>',
      '_INBOX.session-creator.>',
      '_INBOX.setup.>',
    ]);
    expect(conf.match(/deny: \[/g)).toHaveLength(1);
  });

  it('keeps local passwords in a 0600 file in a 0700 directory, the same on the next start', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tabmesh-users-')), 'state');
    try {
      const first = localBusPasswords(dir);
      expect(Object.keys(first).sort()).toEqual([...BusIdentities].sort());
      expect(localBusPasswords(dir)).toEqual(first);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'nats-users.json')).mode & 0o777).toBe(0o600);
      expect(new Set(Object.values(first)).size).toBe(BusIdentities.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
