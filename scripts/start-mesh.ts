/**
 * `pnpm start`: the whole mesh in one command. Starts an embedded nats-server (data under .data/)
 * unless NATS_URL is set, with one NATS user per service kind (BusPermissions; random passwords kept
 * in .data/nats-users.json), sets the bus up as the `setup` user, then starts the four services, each
 * with its own user, with readable logs, and prints where to reach the mesh once every service has
 * said it is ready; Ctrl-C stops them all, the services first so they drain.
 *
 * The services share one Node process (scripts/mesh-host.ts), which costs a third less CPU per tab
 * than four; `--processes` runs each in a process of its own, as deploy/ does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevSecret, mintToken } from '@tabmesh/auth';
import { BusIdentity, type ServiceName, ServiceStartOrder, SimLedgerGrant } from '@tabmesh/contracts';
import { freePort, launchNatsServer } from '@tabmesh/nats-launcher';
import { stopLocalSandboxes } from '@tabmesh/providers';
import {
  busUsers,
  connectNats,
  createLogger,
  ensureBus,
  loadConfig,
  localBusPasswords,
  MeshHostName,
  natsUserEnv,
  type ReadySignal,
  renderNatsAuthorization,
  waitForReadySignal,
} from '@tabmesh/runtime';
import { prettyFactory } from 'pino-pretty';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = ServiceStartOrder;
type Service = ServiceName;
/** Fixed ops ports (health, metrics) so they are easy to find; the gateway serves its own on HTTP. */
const opsPorts: Partial<Record<Service, string>> = {
  'tab-registry': '9090',
  provisioner: '9091',
  'session-creator': '9092',
};
const pretty = prettyFactory({
  colorize: process.stdout.isTTY,
  ignore: 'pid,hostname,service',
  translateTime: 'HH:MM:ss.l',
  singleLine: true,
});
const children: ChildProcess[] = [];
const config = loadConfig(); // fails early, naming the variable, on bad configuration
const stateDir = process.env.TABMESH_STATE_DIR ?? join(root, '.data');
const separateProcesses = process.argv.slice(2).includes('--processes');

function pipeLogs(child: ChildProcess, name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      let out = line;
      let from = name;
      if (line.startsWith('{')) {
        try {
          const parsed = JSON.parse(line) as { service?: unknown };
          // The host's lines say which of its services wrote them.
          if (typeof parsed.service === 'string') from = parsed.service;
          out = pretty(parsed).trimEnd();
        } catch {
          out = line;
        }
      }
      process.stdout.write(`${from.padEnd(15)} ${out}\n`);
    });
  }
}

/** Resolves with the child's ready signal (of `name`); rejects, naming it, if it exits first. */
const readySignal = (child: ChildProcess, name: string): Promise<ReadySignal> =>
  waitForReadySignal(child, { service: name }).catch((err: Error) => {
    throw new Error(`${name} ${err.message}`);
  });

async function main(): Promise<void> {
  let natsUrl = process.env.NATS_URL;
  let nats: ChildProcess | null = null;
  // The bus identity of each child: its own user on the embedded server; on a given NATS_URL, the
  // operator's NATS_* settings pass through unchanged.
  let identityOf = (_name: Service): Record<string, string> => ({});
  if (!natsUrl) {
    const port = Number(process.env.NATS_PORT ?? 4222) || (await freePort());
    const storeDir = join(root, '.data', 'nats');
    mkdirSync(storeDir, { recursive: true });
    const passwords = localBusPasswords(stateDir);
    const pw = (user: string): string => passwords[user] ?? '';
    const extra = config.TABMESH_SIM_LEDGER === 'nats' ? { extra: SimLedgerGrant } : {};
    const confFile = join(stateDir, 'nats-server.conf');
    writeFileSync(confFile, renderNatsAuthorization(busUsers(pw, extra)), { mode: 0o600 });
    // Own process group: Ctrl-C reaches only this launcher, which stops nats-server last.
    nats = await launchNatsServer({ port, storeDir, args: ['-c', confFile], output: 'pipe', detached: true });
    pipeLogs(nats, 'nats-server');
    natsUrl = `nats://127.0.0.1:${port}`;
    // Streams, buckets and consumers are made once, here, by the only identity that may.
    const setup = await connectNats(natsUrl, BusIdentity.Setup, createLogger('setup', 'warn'), {
      user: BusIdentity.Setup,
      password: pw(BusIdentity.Setup),
    });
    try {
      await ensureBus(setup, config);
    } finally {
      await setup.close();
    }
    identityOf = (name) => ({
      ...natsUserEnv(name, pw(name)),
      NATS_CREDS: '',
      NATS_SETUP_USER: '',
      NATS_SETUP_PASSWORD: '',
      NATS_SETUP_CREDS: '',
    });
  }
  // The gateway verifies tokens: a secret of the operator's, or a development one kept under .data/.
  const jwtSecret =
    config.TABMESH_JWT_SECRET ?? (config.TABMESH_JWKS_URL ? undefined : await loadOrCreateDevSecret(stateDir));
  let stopping = false;
  const ready: Promise<ReadySignal>[] = [];
  const common = {
    ...process.env,
    NATS_URL: natsUrl,
    TABMESH_STATE_DIR: stateDir,
    ...(jwtSecret ? { TABMESH_JWT_SECRET: jwtSecret } : {}),
  };
  const ownEnv = (name: Service): Record<string, string> => {
    const opsPort = process.env.TABMESH_OPS_PORT ?? opsPorts[name];
    return { ...identityOf(name), ...(opsPort ? { TABMESH_OPS_PORT: opsPort } : {}) };
  };
  const launch = (name: string, entry: string, env: NodeJS.ProcessEnv): void => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      env,
      // The IPC channel carries the ready signal.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    children.push(child);
    pipeLogs(child, name);
    ready.push(readySignal(child, name));
    child.on('exit', (code, signal) => {
      if (!stopping) {
        process.stdout.write(`${name} exited (${signal ?? code}); stopping the mesh\n`);
        void stop(1);
      }
    });
  };
  if (separateProcesses) {
    for (const name of services)
      launch(name, join(root, 'services', name, 'src', 'main.ts'), { ...common, ...ownEnv(name) });
  } else {
    const hosted = Object.fromEntries(services.map((name) => [name, ownEnv(name)]));
    launch(MeshHostName, join(root, 'scripts', 'mesh-host.ts'), {
      ...common,
      TABMESH_HOSTED_ENV: JSON.stringify(hosted),
    });
  }

  async function stop(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    // Stopped by Ctrl-C or SIGTERM, the services drained: the local sandboxes go with the mesh. A
    // mesh stopped because a service crashed leaves them for the next provisioner to adopt.
    if (code === 0 && config.TABMESH_PROVIDER === 'local') {
      const stopped = await stopLocalSandboxes(stateDir).catch(() => 0);
      process.stdout.write(`stopped ${stopped} local sandbox${stopped === 1 ? '' : 'es'}\n`);
    }
    if (nats) {
      const n = nats;
      await new Promise<void>((resolve) => {
        n.once('exit', () => resolve());
        n.kill('SIGTERM');
      });
    }
    process.exit(code);
  }
  // Should the launcher itself die, take the mesh with it rather than leave orphans.
  process.on('exit', () => {
    for (const c of [...children, nats]) if (c && c.exitCode === null) c.kill('SIGKILL');
  });
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const signals = await Promise.all(ready).catch(() => null);
  if (!signals) return; // a service died first; stop() is under way
  const gateway = signals.find((r) => r.service === 'gateway' || r.service === MeshHostName)?.ports ?? {};
  const http = gateway.http ?? config.GATEWAY_HTTP_PORT;
  const ws = gateway.ws ?? config.GATEWAY_WS_PORT;
  process.stdout.write(
    `tabmesh ready: NATS ${natsUrl}, provider ${config.TABMESH_PROVIDER}, HTTP http://localhost:${http}, WebSocket ws://localhost:${ws}/v1/ws\n`,
  );
  if (jwtSecret && config.TABMESH_AUTH !== 'off') {
    // A development token for every org, in the fragment: it never reaches a server log.
    const token = await mintToken({ secret: jwtSecret, sub: 'pnpm-start', orgs: ['*'], ttlSeconds: 12 * 3600 });
    process.stdout.write(`workbench (signed in for 12 h, all orgs): http://localhost:${http}/#token=${token}\n`);
    process.stdout.write('another token: npx -y pnpm@10 token --org <org> [--ttl 1h]\n');
  }
}

await main();
