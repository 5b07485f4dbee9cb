import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BusGrant, BusIdentities, BusPermissions, mergeGrants } from '@tabmesh/contracts';

/** One user of a rendered nats-server config: a password (or a `$VAR` reference) and its grant. */
export type NatsUser = { user: string; password: string; grant: BusGrant };

/** How a deployment's server config names a user's password: an environment variable, read by nats-server. */
export const passwordEnvVar = (user: string): string => `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

/**
 * The bus users (BusPermissions) with these passwords; `extra` adds to every service user's grant
 * (the sim ledger of test meshes), `more` appends users (a test's admin).
 */
export function busUsers(
  password: (user: string) => string,
  opts: { extra?: BusGrant; more?: NatsUser[] } = {},
): NatsUser[] {
  const users = BusIdentities.map((user) => ({
    user,
    password: password(user),
    grant: opts.extra && user !== 'setup' ? mergeGrants(BusPermissions[user], opts.extra) : BusPermissions[user],
  }));
  return [...users, ...(opts.more ?? [])];
}

const q = (s: string): string => JSON.stringify(s);
const list = (items: string[], indent: string): string =>
  items.length === 0 ? '[]' : `[\n${items.map((s) => `${indent}  ${q(s)}`).join('\n')}\n${indent}]`;

/**
 * The `authorization` block of a nats-server config (2.9+): every user with its publish and
 * subscribe allow-lists. A password that starts with `$` is written bare, so nats-server reads it
 * from its environment (deploy/); any other is quoted. No user means no anonymous access: a
 * client without credentials is refused.
 */
export function renderNatsAuthorization(users: NatsUser[]): string {
  const blocks = users.map(({ user, password, grant }) => {
    const pw = /^\$[A-Z_][A-Z0-9_]*$/.test(password) ? password : q(password);
    const lines = [
      `    {`,
      `      user: ${q(user)}`,
      `      password: ${pw}`,
      `      permissions: {`,
      `        publish: { allow: ${list(grant.publish, '        ')} }`,
      `        subscribe: { allow: ${list(grant.subscribe, '        ')} }`,
      ...(grant.allowResponses ? ['        allow_responses: true'] : []),
      `      }`,
      `    }`,
    ];
    return lines.join('\n');
  });
  return `authorization {\n  users: [\n${blocks.join('\n')}\n  ]\n}\n`;
}

/** A user with every right, for tests and operators that inspect the bus (never a service). */
export const AdminGrant: BusGrant = { publish: ['>'], subscribe: ['>'] };

/**
 * Random passwords for the bus users of a local mesh, kept under the state directory
 * (`<dir>/nats-users.json`, 0600 in a 0700 directory) so a restart of `pnpm start` finds the same.
 */
export function localBusPasswords(stateDir: string, users: readonly string[] = BusIdentities): Record<string, string> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
  const file = join(stateDir, 'nats-users.json');
  const known: Record<string, string> = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)
    : {};
  let changed = !existsSync(file);
  for (const u of users) {
    if (typeof known[u] === 'string' && known[u].length >= 32) continue;
    known[u] = randomBytes(24).toString('base64url');
    changed = true;
  }
  if (changed) writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return known;
}

/** The environment that makes a service connect as `user`. */
export const natsUserEnv = (user: string, password: string): Record<string, string> => ({
  NATS_USER: user,
  NATS_PASSWORD: password,
});
