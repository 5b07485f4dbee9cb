import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { NatsLaunchError } from './launch-error.js';

/** Finds nats-server: `NATS_SERVER_BIN`, then PATH, then where Debian installs it. */
export function natsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NATS_SERVER_BIN) return env.NATS_SERVER_BIN;
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const d of dirs) {
    const p = join(d, 'nats-server');
    if (d && existsSync(p)) return p;
  }
  throw new NatsLaunchError('nats-server not found: run `bash scripts/setup.sh` (apt-get install nats-server)');
}
