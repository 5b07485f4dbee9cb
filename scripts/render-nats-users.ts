/**
 * `pnpm nats:users`: writes the bus users of deploy/ from BusPermissions — deploy/nats/accounts.conf
 * and its copy in the ConfigMap of deploy/k8s/nats.yaml. A test fails when either drifts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimLedgerGrant } from '@tabmesh/contracts';
import { renderDeployAccounts } from '@tabmesh/runtime';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The deployment runs the sim provider by default, with its ledger in KV: the workers may use it.
const accounts = renderDeployAccounts(SimLedgerGrant);
writeFileSync(join(root, 'deploy', 'nats', 'accounts.conf'), accounts);

const k8s = join(root, 'deploy', 'k8s', 'nats.yaml');
const text = readFileSync(k8s, 'utf8');
const start = text.indexOf('  accounts.conf: |\n');
if (start < 0) throw new Error('deploy/k8s/nats.yaml has no accounts.conf entry');
const body = start + '  accounts.conf: |\n'.length;
// The entry ends at the next key of the ConfigMap's data (two-space indent) or the document end.
const rest = text.slice(body);
const end = body + rest.search(/^(?: {2}\S|---)/m);
const indented = accounts
  .trimEnd()
  .split('\n')
  .map((l) => (l ? `    ${l}` : ''))
  .join('\n');
writeFileSync(k8s, `${text.slice(0, body)}${indented}\n${text.slice(end)}`);
process.stdout.write('wrote deploy/nats/accounts.conf and the accounts.conf of deploy/k8s/nats.yaml\n');
