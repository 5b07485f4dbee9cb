/**
 * Runs inside a container on the compose network (bundled by tests/deploy/docker.ts): prints the
 * sim provider's ledger as live sandboxes per task and live sessions per tab, one JSON line. NATS is
 * not published to the host, so this is how a test counts what the containers created.
 */
import { connect } from '@nats-io/transport-node';
import { inboxPrefix } from '@tabmesh/contracts';
import { countLive, SimKvLedger } from '@tabmesh/providers';

// As the provisioner's bus user when the deployment has users (NATS_USER/NATS_PASSWORD of its container).
const { NATS_USER: user, NATS_PASSWORD: pass } = process.env;
const nc = await connect({
  servers: (process.env.NATS_URL ?? 'nats://nats-1:4222').split(','),
  // Replies come back on the identity's own inbox prefix: the only one its permissions allow.
  ...(user ? { user, pass: pass ?? '', inboxPrefix: inboxPrefix(user) } : {}),
});
const ledger = await SimKvLedger.open(nc, { replicas: 3 });
const { sandboxesByTask, sessionsByTab } = countLive(await ledger.snapshot());
process.stdout.write(
  `${JSON.stringify({ sandboxesByTask: Object.fromEntries(sandboxesByTask), sessionsByTab: Object.fromEntries(sessionsByTab) })}\n`,
);
await nc.close();
