/**
 * `pnpm start`: the whole mesh in one command. Starts an embedded nats-server (data under .data/)
 * unless NATS_URL is set, then the four services as child processes, with readable logs; Ctrl-C
 * stops them all, the services first so they drain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { stopLocalSandboxes } from '@tabmesh/providers';
import { loadConfig } from '@tabmesh/runtime';
import { natsServerBinary, freePort } from '@tabmesh/testkit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = ['tab-registry', 'provisioner', 'session-creator', 'gateway'] as const;
const pretty = prettyFactory({
  colorize: process.stdout.isTTY,
  ignore: 'pid,hostname,service',
  translateTime: 'HH:MM:ss.l',
  singleLine: true,
});
const children: ChildProcess[] = [];
const config = loadConfig(); // fails early, naming the variable, on bad configuration
const stateDir = process.env.TABMESH_STATE_DIR ?? join(root, '.data');

function pipeLogs(child: ChildProcess, name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      let out = line;
      if (line.startsWith('{')) {
        try {
          out = pretty(JSON.parse(line)).trimEnd();
        } catch {
          out = line;
        }
      }
      process.stdout.write(`${name.padEnd(15)} ${out}\n`);
    });
  }
}

async function waitForNats(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`embedded nats-server did not start on port ${port}`);
}

async function main(): Promise<void> {
  let natsUrl = process.env.NATS_URL;
  let nats: ChildProcess | null = null;
  if (!natsUrl) {
    const port = Number(process.env.NATS_PORT ?? 4222) || (await freePort());
    const storeDir = join(root, '.data', 'nats');
    mkdirSync(storeDir, { recursive: true });
    nats = spawn(natsServerBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: Ctrl-C reaches only this launcher, which stops nats-server last.
      detached: true,
    });
    pipeLogs(nats, 'nats-server');
    await waitForNats(port);
    natsUrl = `nats://127.0.0.1:${port}`;
  }
  process.stdout.write(
    `tabmesh: NATS ${natsUrl}, provider ${config.TABMESH_PROVIDER}, HTTP http://localhost:${config.GATEWAY_HTTP_PORT}, WebSocket ws://localhost:${config.GATEWAY_WS_PORT}/v1/ws\n`,
  );
  let stopping = false;
  for (const name of services) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'services', name, 'src', 'main.ts')], {
      env: { ...process.env, NATS_URL: natsUrl, TABMESH_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(child);
    pipeLogs(child, name);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        process.stdout.write(`${name} exited (${signal ?? code}); stopping the mesh\n`);
        void stop(1);
      }
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
}

await main();
