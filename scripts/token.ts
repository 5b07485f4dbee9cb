/**
 * `pnpm token --org <id> [--org <id>…] | --all [--ttl 1h] [--sub name]`: mints a bearer token for the
 * gateway, signed with TABMESH_JWT_SECRET or, when it is unset, the development secret of `pnpm start`
 * (`.data/dev-jwt-secret`, made on first use). Prints the token on stdout, the workbench URL on stderr.
 */
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AllOrgs, type Claims, loadOrCreateDevSecret, mintToken, parseTtl } from '@tabmesh/auth';
import { loadConfig } from '@tabmesh/runtime';

const usage = 'usage: pnpm token --org <id> [--org <id>…] | --all [--ttl 1h] [--sub name]\n';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}`);
  process.exit(2);
}

/** The parsed command line; a malformed one ends the script with the usage. */
function readArgs() {
  try {
    return parseArgs({
      options: {
        org: { type: 'string', multiple: true },
        all: { type: 'boolean', default: false },
        ttl: { type: 'string', default: '1h' },
        sub: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
}

const args = readArgs();
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const orgs = args.org ?? [];
if (args.all === orgs.length > 0) fail('give either --all or at least one --org');

const config = loadConfig(); // names the variable when TABMESH_JWT_SECRET (or another) is malformed
let ttlSeconds: number;
try {
  ttlSeconds = parseTtl(args.ttl);
} catch (err) {
  fail((err as Error).message);
}
const secret = config.TABMESH_JWT_SECRET ?? (await loadOrCreateDevSecret(join(root, '.data')));
const token = await mintToken({
  secret,
  sub: args.sub ?? userInfo().username,
  orgs: (args.all ? [AllOrgs] : orgs) as Claims['orgs'],
  ttlSeconds,
  ...(config.TABMESH_JWT_ISSUER ? { issuer: config.TABMESH_JWT_ISSUER } : {}),
  ...(config.TABMESH_JWT_AUDIENCE ? { audience: config.TABMESH_JWT_AUDIENCE } : {}),
}).catch((err: unknown) => fail(`cannot mint this token: ${(err as Error).message}`));

process.stdout.write(`${token}\n`);
process.stderr.write(
  `signed with ${config.TABMESH_JWT_SECRET ? 'TABMESH_JWT_SECRET' : '.data/dev-jwt-secret'}, valid ${args.ttl}; workbench: http://localhost:${config.GATEWAY_HTTP_PORT}/#token=${token}\n`,
);
