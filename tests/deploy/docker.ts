/**
 * What the deploy tests need from Docker and the compose deployment of deploy/up.sh: commands with
 * their output, the project's containers by service, and HTTP through the published gateway.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AllOrgs, mintToken } from '@tabmesh/auth';
import { build } from 'esbuild';

const run = promisify(execFile);
export const repo = join(import.meta.dirname, '..', '..');
export const Project = 'tabmesh';
export const Gateway = 'http://127.0.0.1:8080';

export async function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, {
      cwd: repo,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** `compose` of deploy/lib.sh (the same project, file and pass-through as up.sh). */
export const compose = (args: string[], env: Record<string, string> = {}): Promise<string> =>
  sh('bash', ['-c', 'source deploy/lib.sh && compose "$@"', 'compose', ...args], env);

/** Ids of the project's containers, optionally of one service; running ones unless `all`. */
export async function containers(service?: string, all = false): Promise<string[]> {
  const filters = ['--filter', `label=com.docker.compose.project=${Project}`];
  if (service) filters.push('--filter', `label=com.docker.compose.service=${service}`);
  const out = await sh('docker', ['ps', ...(all ? ['-a'] : []), '-q', ...filters]);
  return out ? out.split('\n') : [];
}

export async function containerOf(service: string): Promise<string> {
  const [id] = await containers(service);
  if (!id) throw new Error(`no running container of ${service}`);
  return id;
}

export const inspect = (id: string, format: string): Promise<string> => sh('docker', ['inspect', '-f', format, id]);

/** Runs a script with the container's own node (the images have no curl). */
export const nodeIn = (id: string, script: string): Promise<string> => sh('docker', ['exec', id, 'node', '-e', script]);

/** GET a URL from inside a container; resolves to the status code (0 when nothing answers). */
export async function statusIn(id: string, url: string): Promise<number> {
  const out = await nodeIn(id, `fetch(${JSON.stringify(url)}).then(r => console.log(r.status), () => console.log(0))`);
  return Number(out);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export const GatewayWs = 'ws://127.0.0.1:8081/v1/ws';
/** Where deploy/up.sh keeps the JWT secret it made (the caller gave none). */
export const JwtSecretFile = join(repo, 'deploy', '.secrets', 'jwt-secret');

let bearer: string | null = null;

/** Mints the token every `/v1` call of these helpers carries, signed with the deployment's secret. */
export async function useSecret(secret: string): Promise<string> {
  bearer = await mintToken({ secret, sub: 'deploy-tests', orgs: [AllOrgs], ttlSeconds: 3 * 3600 });
  return bearer;
}

export function authHeader(): Record<string, string> {
  if (!bearer) throw new Error('no token yet: call useSecret() after up.sh');
  return { authorization: `Bearer ${bearer}` };
}

/** fetch through the published gateway with the token. */
export const call = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${Gateway}${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), ...authHeader() },
    signal: init.signal ?? AbortSignal.timeout(30_000),
  });

export type Tab = {
  id: string;
  org: string;
  task: string;
  state: string;
  sandboxId: string | null;
  sessionId: string | null;
  progress?: unknown;
  updatedAt?: string;
};

export async function createTab(org: string, task: string): Promise<{ status: number; tab?: Tab }> {
  const res = await call(`/v1/orgs/${org}/tasks/${task}/tabs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json().catch(() => null)) as { tab?: Tab } | null;
  return { status: res.status, ...(body?.tab ? { tab: body.tab } : {}) };
}

export async function getTab(tab: { org: string; task: string; id: string }): Promise<Tab | null> {
  const res = await call(`/v1/orgs/${tab.org}/tasks/${tab.task}/tabs/${tab.id}`);
  return res.ok ? ((await res.json()) as { tab: Tab }).tab : null;
}

/**
 * Waits for a tab's state; a timeout names what the tab last showed, so a failed run says where it stood.
 * The default patience outlasts TABMESH_SWEEP_LOST_AFTER_MS (60 s), the mesh's own recovery of a job
 * the cluster lost, so a test fails only when that recovery fails too.
 */
export async function waitForState(tab: Tab, state: string, timeoutMs = 120_000): Promise<Tab> {
  let seen: Tab | null = null;
  try {
    return await waitFor(
      `tab ${tab.id} ${state}`,
      async () => {
        seen = await getTab(tab);
        return seen?.state === state ? seen : null;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(seen)}`);
  }
}

/**
 * Warnings and errors the services logged, with the stream and consumer state, for a failed run:
 * the deployment is removed after the suite, and with it every log.
 */
export async function failureReport(): Promise<string> {
  const parts: string[] = [];
  for (const service of ['tab-registry', 'provisioner', 'session-creator', 'gateway']) {
    for (const id of await containers(service, true).catch(() => [] as string[])) {
      const logs = await sh('docker', ['logs', id]).catch((err: Error) => err.message);
      const loud = logs.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
      parts.push(`--- ${service} ${id}: ${loud.length} warnings and errors (last 60)`, ...loud.slice(-60));
      // Its moves between NATS nodes, which the errors above can push out of the last 60.
      const moves = logs.split('\n').filter((l) => /"msg":"nats (disconnect|reconnect)"/.test(l));
      parts.push(`--- ${service} ${id}: NATS disconnects and reconnects (last 10)`, ...moves.slice(-10));
    }
  }
  for (const node of ['nats-1', 'nats-2', 'nats-3']) {
    // nats-server logs to stderr; its elections say how long a stream went without a leader.
    const logs = await sh('bash', ['-c', `docker logs --timestamps ${node} 2>&1`]).catch((err: Error) => err.message);
    const elections = logs.split('\n').filter((l) => /leader|quorum|election/i.test(l));
    parts.push(`--- ${node}: ${elections.length} lines on leaders and elections (last 40)`, ...elections.slice(-40));
  }
  return parts.join('\n');
}

let snapshotScript: string | null = null;

/** The sim ledger's live sandboxes per task and sessions per tab, read from inside the network. */
export async function ledgerSnapshot(): Promise<{
  sandboxesByTask: Record<string, number>;
  sessionsByTab: Record<string, number>;
}> {
  if (!snapshotScript) {
    const dir = mkdtempSync(join(tmpdir(), 'tabmesh-deploy-test-'));
    snapshotScript = join(dir, 'ledger-snapshot.mjs');
    await build({
      entryPoints: [join(import.meta.dirname, 'ledger-snapshot.ts')],
      outfile: snapshotScript,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // The image provides these; the snapshot never loads a sandbox-agent binary.
      external: ['uWebSockets.js', 'sandbox-agent', '@sandbox-agent/cli-linux-x64', 'pino'],
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
      logLevel: 'warning',
    });
  }
  const provisioner = await containerOf('provisioner');
  const image = await inspect(provisioner, '{{.Config.Image}}');
  // The sim ledger is the provisioner's: its bus user (when NATS has users) may read it.
  const creds = (await inspect(provisioner, '{{range .Config.Env}}{{println .}}{{end}}'))
    .split('\n')
    .filter((line) => /^NATS_(USER|PASSWORD)=/.test(line))
    .flatMap((line) => ['-e', line]);
  // Mounted under /app so the image's node_modules (pino, sandbox-agent) resolve.
  const natsUrl = 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222';
  // Tried again while the cluster settles (a node just restarted, a leader being elected).
  const out = await waitFor(
    'ledger snapshot',
    () =>
      sh('docker', [
        'run',
        '--rm',
        '--network',
        `${Project}_default`,
        '-e',
        `NATS_URL=${natsUrl}`,
        ...creds,
        '-v',
        `${snapshotScript}:/app/ledger-snapshot.mjs:ro`,
        image,
        '/app/ledger-snapshot.mjs',
      ]),
    60_000,
    2000,
  );
  return JSON.parse(out.split('\n').at(-1) ?? '{}');
}
