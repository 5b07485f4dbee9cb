/**
 * Set-up step: installs the built-in `mock` agent for the packaged sandbox-agent binary. Offline and
 * idempotent (sandbox-agent reports alreadyInstalled). It writes the agent launcher under
 * $XDG_DATA_HOME/sandbox-agent (default ~/.local/share/sandbox-agent), once per user and machine.
 *
 *   pnpm --filter @tabmesh/providers setup:agent     (or: npx tsx libs/providers/scripts/install-mock-agent.ts [agent])
 */
import { spawnSync } from 'node:child_process';
import { resolveBinary } from '../src/local/binary.js';

const agent = process.argv[2] ?? 'mock';
const bin = resolveBinary(process.env.SANDBOX_AGENT_BIN || undefined);
const result = spawnSync(bin, ['install-agent', agent], {
  env: { ...process.env, SANDBOX_AGENT_BIN: bin },
  encoding: 'utf8',
});
if (result.status !== 0) {
  process.stderr.write(result.stderr || String(result.error ?? ''));
  process.exit(result.status ?? 1);
}
process.stdout.write(`sandbox-agent ${bin}: agent ${agent} installed\n${result.stdout}`);
