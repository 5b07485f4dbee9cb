/**
 * The compose deployment for real (`pnpm test:deploy`): deploy/up.sh builds the images (the local
 * base included) and starts nats-1..nats-3 and the four services; the tests drive it through the
 * gateway published on 127.0.0.1:8080 and through `docker`, then deploy/down.sh removes it all.
 * The tests run in order and share the one deployment (its container names are fixed).
 */

import { readFileSync, statSync } from 'node:fs';
import { Streams } from '@tabmesh/contracts';
import { ReconnectWithinMs } from '@tabmesh/runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  authHeader,
  call,
  compose,
  containerOf,
  containers,
  createTab,
  failureReport,
  Gateway,
  GatewayWs,
  inspect,
  JwtSecretFile,
  ledgerSnapshot,
  nodeIn,
  Project,
  sh,
  statusIn,
  type Tab,
  useSecret,
  waitFor,
  waitForState,
} from './docker.js';

/** The caller's settings up.sh must pass through; short sim steps and ack wait keep the suite fast. */
const upEnv = {
  // Empty: up.sh makes the secret (deploy/.secrets/jwt-secret) and the tests mint tokens with it.
  TABMESH_JWT_SECRET: '',
  GATEWAY_WS_MAX_BACKPRESSURE: '2097152',
  TABMESH_SIM_PROVISION_MS: '500',
  TABMESH_SIM_SESSION_MS: '100',
  // Two jobs per worker: a burst needs more than one replica, which is what --scale is for.
  TABMESH_CONCURRENCY: '2',
  TABMESH_ACK_WAIT_MS: '5000',
  TABMESH_RETRY_BASE_MS: '200',
};
const Services = ['gateway', 'tab-registry', 'provisioner', 'session-creator'] as const;
const GraceMs = 20_000; // stop_grace_period of deploy/compose.yaml
const startedAt = Date.now();

const up = (...args: string[]) =>
  sh('bash', ['deploy/up.sh', ...args], { ...upEnv, TABMESH_SKIP_BUILD: args.length ? '1' : '' });
const down = () => sh('bash', ['deploy/down.sh']);

/** JetStream state from a node's monitoring port (no curl in the image: bash's /dev/tcp). */
async function jsz(node: string): Promise<{
  meta_cluster?: { leader?: string };
  account_details: {
    stream_detail: { name: string; config: { num_replicas: number }; cluster?: { leader?: string } }[];
  }[];
}> {
  const raw = await sh('docker', [
    'exec',
    node,
    'bash',
    '-c',
    'exec 3<>/dev/tcp/127.0.0.1/8222; printf "GET /jsz?accounts=true&streams=true&config=true HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3',
  ]);
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

/**
 * Resolves with the time at which `node` sees the meta group and every stream led by a node other
 * than `gone` (a follower keeps naming its dead leader until its election timeout runs out).
 */
async function leadersBackWithout(node: string, gone: string, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const state = await jsz(node).catch(() => undefined);
    const leaders = [
      state?.meta_cluster?.leader,
      ...(state?.account_details.flatMap((a) => a.stream_detail).map((s) => s.cluster?.leader) ?? []),
    ];
    if (state && leaders.every((leader) => leader && leader !== gone)) return Date.now();
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${node}: no leader other than ${gone} for every stream within ${withinMs} ms`);
}

async function createMany(prefix: string, count: number, everyMs: number, during?: (i: number) => Promise<void>) {
  const acked: Tab[] = [];
  const refused: { i: number; status: number }[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(
      createTab('deploy', `${prefix}-${i}`).then(
        (r) => void (r.status === 201 && r.tab ? acked.push(r.tab) : refused.push({ i, status: r.status })),
        () => void refused.push({ i, status: 0 }),
      ),
    );
    await during?.(i);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await Promise.all(pending);
  return { acked, refused };
}

let secret = '';

beforeAll(async () => {
  await down();
  const out = await up();
  expect(out).toMatch(/^token: /m);
  secret = readFileSync(JwtSecretFile, 'utf8').trim();
  await useSecret(secret);
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    process.stdout.write(`${await failureReport()}\n`);
  });
});

afterAll(async () => {
  await down().catch(() => undefined);
  process.stdout.write(`deploy suite: ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n`);
});

describe('compose deployment', () => {
  it('up.sh starts nats-1..nats-3 and the four services, with R3 streams and buckets', async () => {
    for (const node of ['nats-1', 'nats-2', 'nats-3']) expect(await inspect(node, '{{.State.Running}}')).toBe('true');
    expect(await inspect('gateway', '{{.State.Running}}')).toBe('true');
    for (const service of Services) expect(await containers(service), service).toHaveLength(1);
    const streams = new Map(
      (await jsz('nats-1')).account_details.flatMap((a) => a.stream_detail).map((s) => [s.name, s.config.num_replicas]),
    );
    for (const name of [Streams.provision.name, Streams.sessions.name, 'KV_tabs', 'KV_tasks'])
      expect(streams.get(name), name).toBe(3);
  });

  it('passes TABMESH_* and GATEWAY_* settings through, with GATEWAY_HOST 0.0.0.0 inside', async () => {
    const env = JSON.parse(await nodeIn('gateway', 'console.log(JSON.stringify(process.env))')) as Record<
      string,
      string
    >;
    expect(env).toMatchObject({
      TABMESH_JWT_SECRET: secret,
      GATEWAY_WS_MAX_BACKPRESSURE: '2097152',
      GATEWAY_HOST: '0.0.0.0',
      TABMESH_REPLICAS: '3',
    });
    const worker = JSON.parse(
      await nodeIn(await containerOf('provisioner'), 'console.log(JSON.stringify(process.env))'),
    ) as Record<string, string>;
    expect(worker).toMatchObject({ TABMESH_CONCURRENCY: '2', TABMESH_PROVIDER: 'sim', TABMESH_SIM_LEDGER: 'nats' });
  });

  it('runs every container as a non-root user', async () => {
    const all = await containers();
    expect(all.length).toBe(7);
    for (const id of all)
      expect(await sh('docker', ['exec', id, 'id', '-u']), await inspect(id, '{{.Name}}')).not.toBe('0');
  });

  it('up.sh made the JWT secret, readable by its owner only, and the gateway refuses calls without a token', async () => {
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(JwtSecretFile).mode & 0o777).toBe(0o600);
    expect((await fetch(`${Gateway}/v1/orgs/deploy/tasks/t/tabs`)).status).toBe(401);
    expect((await call('/v1/orgs/deploy/tasks/t/tabs')).status).toBe(200);
  });

  it('takes a tab from create to ready to closed through the published gateway, ready pushed on the WebSocket', async () => {
    expect((await fetch(`${Gateway}/healthz`)).status).toBe(200);
    expect((await fetch(`${Gateway}/readyz`)).status).toBe(200);
    const frames: { type: string; tab?: Tab }[] = [];
    const ws = new WebSocket(GatewayWs, { headers: authHeader() });
    ws.on('message', (data) => void frames.push(JSON.parse(String(data))));
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ op: 'subscribe', org: 'deploy', task: 'lifecycle' }));
      await waitFor('snapshot frame', async () => frames.some((f) => f.type === 'snapshot'), 30_000);
      const created = await createTab('deploy', 'lifecycle');
      expect(created.status).toBe(201);
      const tab = created.tab;
      if (!tab) throw new Error('no tab in the create reply');
      expect(tab.state).toBe('pending_provision');
      const ready = await waitFor(
        'ready frame',
        async () => frames.find((f) => f.type === 'tab' && f.tab?.id === tab.id && f.tab.state === 'ready')?.tab,
        60_000,
      );
      expect(ready.sandboxId).toBeTruthy();
      expect(ready.sessionId).toBeTruthy();
      const close = await call(`/v1/orgs/deploy/tasks/lifecycle/tabs/${ready.id}`, { method: 'DELETE' });
      expect(close.status).toBe(202);
      await waitFor(
        'closed frame',
        async () => frames.some((f) => f.type === 'tab' && f.tab?.id === tab.id && f.tab.state === 'closed'),
        60_000,
      );
    } finally {
      ws.close();
    }
    const metrics = await fetch(`${Gateway}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^tabmesh_gateway_/m);
  });

  // Needs the workers' ops listener (/healthz, /readyz, /metrics on TABMESH_OPS_PORT), which lands
  // from the metrics work: until then this test fails, and so do the workers' image healthchecks.
  // prom-client's default process metrics on every /metrics are part of the same work.
  it('every worker answers /healthz, /readyz and /metrics on TABMESH_OPS_PORT, and Docker reports all healthy', async () => {
    for (const service of ['tab-registry', 'provisioner', 'session-creator']) {
      const id = await containerOf(service);
      for (const path of ['/healthz', '/readyz', '/metrics'])
        expect(await statusIn(id, `http://127.0.0.1:9090${path}`), `${service} ${path}`).toBe(200);
      expect(
        await nodeIn(id, "fetch('http://127.0.0.1:9090/metrics').then(r => r.text()).then(t => console.log(t))"),
      ).toMatch(/^process_cpu_user_seconds_total[{ ]/m);
    }
    expect(await (await fetch(`${Gateway}/metrics`)).text()).toMatch(/^process_cpu_user_seconds_total[{ ]/m);
    await waitFor(
      'every container healthy',
      async () => {
        const states = await Promise.all((await containers()).map((id) => inspect(id, '{{.State.Health.Status}}')));
        return states.every((s) => s === 'healthy');
      },
      60_000,
      1000,
    );
  });

  it('the workers export, after that lifecycle, jobs by outcome, consumer depth, queue wait, step durations and time to ready', async () => {
    const scrape = async (service: string) =>
      nodeIn(
        await containerOf(service),
        "fetch('http://127.0.0.1:9090/metrics').then(r => r.text()).then(t => console.log(t))",
      );
    /** The value of a series carrying every label given (prom-client's label order varies by metric kind). */
    const value = (text: string, name: string, labels: Record<string, string>): number | undefined => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    const provisioner = await scrape('provisioner');
    expect(value(provisioner, 'tabmesh_jobs_total', { outcome: 'succeeded' })).toBeGreaterThanOrEqual(1);
    for (const outcome of ['retried', 'failed', 'poison'])
      expect(value(provisioner, 'tabmesh_jobs_total', { outcome }), outcome).toBeTypeOf('number');
    expect(value(provisioner, 'tabmesh_consumer_pending', { consumer: 'provisioner' })).toBe(0);
    expect(value(provisioner, 'tabmesh_consumer_ack_pending', { consumer: 'provisioner' })).toBeTypeOf('number');
    expect(value(provisioner, 'tabmesh_queue_wait_seconds_count', { provider: 'sim' })).toBeGreaterThanOrEqual(1);
    expect(
      value(provisioner, 'tabmesh_step_duration_seconds_count', { provider: 'sim', step: 'provision' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(provisioner, 'tabmesh_bus_reconnects_total', {})).toBe(0);
    expect(provisioner).toMatch(/^# TYPE tabmesh_drain_duration_seconds histogram$/m);
    const sessions = await scrape('session-creator');
    expect(
      value(sessions, 'tabmesh_step_duration_seconds_count', { provider: 'sim', step: 'createSession' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(sessions, 'tabmesh_time_to_ready_seconds_count', {})).toBeGreaterThanOrEqual(1);
    expect(value(sessions, 'tabmesh_consumer_pending', { consumer: 'session-creator' })).toBe(0);
  });

  it('docker stop of a worker drains and exits within its grace period', async () => {
    const id = await containerOf('provisioner');
    const burst = await createMany('drain', 4, 0);
    expect(burst.acked).toHaveLength(4);
    const t0 = Date.now();
    await sh('docker', ['stop', '-t', String(GraceMs / 1000), id]);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(GraceMs);
    expect(['0', '143']).toContain(await inspect(id, '{{.State.ExitCode}}'));
    // The service's own drain ran, so SIGTERM reached node through tini (a SIGKILL at the end of the grace leaves no such line).
    expect(await sh('docker', ['logs', id])).toContain('"msg":"drain end"');
    await sh('docker', ['start', id]);
    for (const tab of burst.acked) await waitForState(tab, 'ready');
  });

  it('--scale provisioner=3 runs three provisioners that share the work', async () => {
    await up('--scale', 'provisioner=3');
    const ids = await containers('provisioner');
    expect(ids).toHaveLength(3);
    const before = await Promise.all(
      ids.map(async (id) => (await sh('docker', ['logs', id])).split('"msg":"task provisioned"').length - 1),
    );
    const { acked } = await createMany('scale', 18, 20);
    expect(acked).toHaveLength(18);
    for (const tab of acked) await waitForState(tab, 'ready');
    const after = await Promise.all(
      ids.map(async (id) => (await sh('docker', ['logs', id])).split('"msg":"task provisioned"').length - 1),
    );
    const did = after.map((n, i) => n - (before[i] ?? 0));
    expect(did.reduce((a, b) => a + b, 0)).toBe(18);
    expect(did.filter((n) => n > 0).length, `jobs per provisioner: ${did.join(', ')}`).toBeGreaterThanOrEqual(2);
  });

  it('docker kill of one NATS node under load loses no acknowledged create', async () => {
    // 10 creates/s for 30 s; one node killed after the first second. Streams and buckets whose
    // leader was on it elect a new one among the other two (nats-server 2.9: 4-9 s per raft group,
    // a round that elects no one adds as much again), and a service connected to it (docker closes
    // its connections: noticed at once) reconnects to another node within ReconnectWithinMs.
    // Creates are checked from the later of the two on.
    const Creates = 300;
    const KillAt = 10;
    const ElectionsWithinMs = 60_000;
    const GraceAfterElections = 20; // 2 s of creates for the services to reconnect and reach the new leaders
    let acked: Tab[] = [];
    let refused: { i: number; status: number }[] = [];
    let elections: Promise<number> | undefined;
    let electedAtMs: number | undefined;
    let killedAtMs = 0;
    let takenAgainAt = Number.POSITIVE_INFINITY;
    try {
      ({ acked, refused } = await createMany('natskill', Creates, 100, async (i) => {
        if (i === KillAt) {
          killedAtMs = Date.now();
          await sh('docker', ['kill', 'nats-2']);
          elections = leadersBackWithout('nats-1', 'nats-2', ElectionsWithinMs).then((at) => (electedAtMs = at));
          elections.catch(() => undefined);
        }
        const moved = Date.now() - killedAtMs >= ReconnectWithinMs;
        if (electedAtMs !== undefined && moved && takenAgainAt === Number.POSITIVE_INFINITY)
          takenAgainAt = i + GraceAfterElections;
      }));
      await elections;
    } finally {
      // Back for the tests after this one, whatever happened here.
      await sh('docker', ['start', 'nats-2']).catch(() => undefined);
    }
    const seen = refused.map((r) => `#${r.i}: ${r.status}`).join(', ');
    // A create the mesh could not take is refused as unavailable (retryable), never as a client or internal error.
    for (const r of refused) expect.soft(r.status, `refused: ${seen}`).toBe(503);
    // Two nodes keep the quorum: once the elections are over and every service is on a live node,
    // every create is taken again.
    expect(takenAgainAt, 'elections over before the last create').toBeLessThan(Creates);
    expect(
      refused.filter((r) => r.i >= takenAgainAt),
      `refused: ${seen}; elections over and services moved at #${takenAgainAt - GraceAfterElections}`,
    ).toEqual([]);
    expect(acked.length).toBeGreaterThan(Creates - takenAgainAt);
    for (const tab of acked) await waitForState(tab, 'ready');
    await waitFor(
      'nats-2 healthy',
      async () => (await inspect('nats-2', '{{.State.Health.Status}}')) === 'healthy',
      90_000,
      500,
    );
    // Counted once the node is back (the count is a check of the run above, not part of the fault).
    const { sandboxesByTask } = await ledgerSnapshot();
    for (const tab of acked) expect(sandboxesByTask[`deploy.${tab.task}`], tab.task).toBe(1);
    const lastRefused = Math.max(KillAt, ...refused.map((r) => r.i));
    process.stdout.write(
      `nats kill: ${acked.length} acknowledged, all ready, one sandbox each; ${refused.length} refused with 503, the last ${((lastRefused - KillAt) / 10).toFixed(1)} s after the kill; elections over ${(((electedAtMs ?? killedAtMs) - killedAtMs) / 1000).toFixed(1)} s after it\n`,
    );
  });

  it('docker kill of a provisioner mid-step with other replicas running: every tab ready, one sandbox per task', async () => {
    const [victim, ...others] = await containers('provisioner');
    expect(others.length).toBeGreaterThanOrEqual(1);
    const { acked } = await createMany('provkill', 12, 0);
    expect(acked).toHaveLength(12);
    await new Promise((r) => setTimeout(r, 250)); // sim provisioning takes 500 ms: jobs are mid-step now
    await sh('docker', ['kill', victim!]);
    for (const tab of acked) await waitForState(tab, 'ready');
    const { sandboxesByTask, sessionsByTab } = await ledgerSnapshot();
    for (const tab of acked) {
      expect(sandboxesByTask[`deploy.${tab.task}`], tab.task).toBe(1);
      expect(sessionsByTab[tab.id], tab.id).toBe(1);
    }
  });

  it('down.sh removes every container, network and volume of the project', async () => {
    await down();
    const label = `label=com.docker.compose.project=${Project}`;
    expect(await sh('docker', ['ps', '-a', '-q', '--filter', label])).toBe('');
    expect(await sh('docker', ['network', 'ls', '-q', '--filter', label])).toBe('');
    expect(await sh('docker', ['volume', 'ls', '-q', '--filter', label])).toBe('');
    for (const name of ['nats-1', 'nats-2', 'nats-3', 'gateway'])
      await expect(inspect(name, '{{.Name}}')).rejects.toThrow();
    // A second run is a no-op, not an error.
    await down();
    expect(await compose(['ps', '-q'])).toBe('');
  });
});
