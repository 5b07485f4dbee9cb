import { randomBytes } from 'node:crypto';
import { BusIdentities, type BusIdentity, inboxPrefix, SimLedgerGrant } from '@tabmesh/contracts';
import { AdminGrant, busUsers, natsUserEnv, renderNatsAuthorization } from '@tabmesh/runtime';

/** The test-only user with every right, which test code uses to poke the bus (never a service). */
export const TestAdminUser = 'admin';

/**
 * The bus users of a test nats-server (or cluster): every identity of BusPermissions with a random
 * password, the sim ledger granted to the workers (fault tests run the sim provider with its ledger
 * in KV), and `admin` for the test's own connection.
 */
export class TestBusUsers {
  readonly passwords: Record<string, string>;

  constructor() {
    this.passwords = Object.fromEntries(
      [...BusIdentities, TestAdminUser].map((u) => [u, randomBytes(18).toString('base64url')]),
    );
  }

  /** The `authorization` block of the server's config file. */
  renderConfig(): string {
    const admin = { user: TestAdminUser, password: this.password(TestAdminUser), grant: AdminGrant };
    return renderNatsAuthorization(busUsers((u) => this.password(u), { extra: SimLedgerGrant, more: [admin] }));
  }

  password(user: string): string {
    const pw = this.passwords[user];
    if (pw === undefined) throw new Error(`no bus user ${user}`);
    return pw;
  }

  /** The environment that makes a service (or the set-up) connect as `identity`. */
  env(identity: BusIdentity): Record<string, string> {
    return natsUserEnv(identity, this.password(identity));
  }

  /** nats.js connection options of `identity` (its inbox prefix included, which its user may subscribe to). */
  connectOptions(identity: BusIdentity | typeof TestAdminUser): { user: string; pass: string; inboxPrefix?: string } {
    const base = { user: identity, pass: this.password(identity) };
    return identity === TestAdminUser ? base : { ...base, inboxPrefix: inboxPrefix(identity) };
  }
}
