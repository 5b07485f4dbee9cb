/**
 * `pnpm chaos`: a bounded soak. Starts nats-server and the services as child processes (sim provider
 * with its ledger in NATS KV), creates and closes tabs at a steady rate while killing, stopping and
 * pausing random service processes, then waits for quiescence and prints what happened.
 *
 *   pnpm chaos --duration 300 --rate 20
 *
 * Exits 1 when any tab is stuck, lost or duplicated, or any session is duplicated or leaked.
 */

import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Streams, Subjects, TabState } from '@tabmesh/contracts';
import { ServiceName, type ServiceProcess, sleep, waitFor } from '@tabmesh/testkit';
import { startFaultMesh } from '../src/index.js';
import { type ChaosReport, percentile, renderReport } from './report.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    rate: { type: 'string', default: '20' },
    settle: { type: 'string', default: '180' },
    'fault-every': { type: 'string', default: '4' },
    'close-ratio': { type: 'string', default: '0.25' },
    'tabs-per-task': { type: 'string', default: '8' },
    replicas: { type: 'string', default: '2' },
    /** Keep every service's log lines in this directory. */
    logs: { type: 'string' },
  },
});
const durationMs = Number(args.duration) * 1000;
const rate = Number(args.rate);
const settleMs = Number(args.settle) * 1000;
const faultEveryMs = Number(args['fault-every']) * 1000;
const closeRatio = Number(args['close-ratio']);
const tabsPerTask = Number(args['tabs-per-task']);
const perKind = Number(args.replicas);
const ackWaitMs = 5000;

const kinds = [ServiceName.TabRegistry, ServiceName.Provisioner, ServiceName.SessionCreator] as const;
type Kind = (typeof kinds)[number];
const Action = { Kill: 'SIGKILL', Term: 'SIGTERM', Pause: 'SIGSTOP' } as const;
type Action = (typeof Action)[keyof typeof Action];

const log = (text: string) => process.stdout.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

type CreateRecord = {
  crid: string;
  task: string;
  issuedAt: number;
  ackedAt: number | null;
  tabId: string | null;
  attempts: number;
};

async function main(): Promise<number> {
  const mesh = await startFaultMesh({
    env: {
      TABMESH_SIM_PROVISION_MS: '800',
      TABMESH_SIM_SESSION_MS: '200',
      TABMESH_ACK_WAIT_MS: String(ackWaitMs),
      TABMESH_RETRY_BASE_MS: '200',
      TABMESH_SWEEP_INTERVAL_MS: '1000',
      TABMESH_SWEEP_AFTER_MS: '5000',
      TABMESH_DRAIN_TIMEOUT_MS: '2000',
      TABMESH_CONCURRENCY: '16',
    },
  });
  if (args.logs) mkdirSync(args.logs, { recursive: true });
  const spawn = (kind: Kind) => mesh.spawn(kind, {}, { maxLogLines: 500, ...(args.logs ? { logDir: args.logs } : {}) });
  const org = `chaos-${Date.now().toString(36)}`;
  log(
    `nats ${mesh.natsUrl}; ${perKind} of each service; ${rate} creates/s for ${durationMs / 1000} s; a fault every ~${faultEveryMs / 1000} s`,
  );
  try {
    for (const k of kinds) for (let i = 0; i < perKind; i++) await spawn(k);

    const creates: CreateRecord[] = [];
    const closes = new Map<string, { ok: boolean }>();
    const work: Promise<unknown>[] = [];
    const faults: { at: number; until: number; kind: Kind; action: Action }[] = [];
    const spawning = new Set<Promise<ServiceProcess>>();
    const paused = new Set<ServiceProcess>();
    const started = Date.now();
    const end = started + durationMs;

    const closeLater = (rec: CreateRecord) => {
      const p = (async () => {
        await sleep(Math.random() * 3000);
        for (let i = 0; i < 20; i++) {
          const r = await mesh.tabOp(Subjects.tabClose, org, rec.task, rec.tabId!, 3000).catch(() => null);
          if (r?.ok) return closes.set(rec.tabId!, { ok: true });
          await sleep(300);
        }
        closes.set(rec.tabId!, { ok: false });
      })();
      work.push(p);
    };

    // Load: `rate` creates per second on tasks of `tabsPerTask` tabs each, so new tasks keep provisioning.
    const load = (async () => {
      let n = 0;
      while (Date.now() < end) {
        const due = started + (n * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        const rec: CreateRecord = {
          crid: `c${n}`,
          task: `t${Math.floor(n / tabsPerTask)}`,
          issuedAt: Date.now(),
          ackedAt: null,
          tabId: null,
          attempts: 0,
        };
        creates.push(rec);
        n++;
        work.push(
          mesh.createWithRetry(org, rec.task, rec.crid, { timeoutMs: 3000, attempts: 30, pauseMs: 300 }).then((r) => {
            rec.attempts = r.attempts;
            if (!r.final.ok) return;
            rec.ackedAt = Date.now();
            rec.tabId = r.final.tab.id;
            if (Math.random() < closeRatio) closeLater(rec);
          }),
        );
      }
    })();

    // Faults: a random service process is killed, stopped or paused; a replacement follows.
    const chaos = (async () => {
      while (Date.now() < end - 2000) {
        await sleep(faultEveryMs * (0.5 + Math.random()));
        const kind = pick(kinds);
        const running = mesh.running(kind).filter((p) => !paused.has(p));
        // Keep one of each kind alive most of the time; now and then take the last one down too.
        if (running.length === 0 || (running.length < 2 && Math.random() > 0.15)) continue;
        const victim = pick(running);
        const roll = Math.random();
        const action: Action = roll < 0.7 ? Action.Kill : roll < 0.85 ? Action.Term : Action.Pause;
        const fault = { at: Date.now(), until: Number.POSITIVE_INFINITY, kind, action };
        faults.push(fault);
        log(`${action} ${victim.label}`);
        if (action === Action.Pause) {
          paused.add(victim);
          victim.pause();
          work.push(
            sleep(ackWaitMs + 1000 + Math.random() * 2000).then(() => {
              victim.resume();
              paused.delete(victim);
              fault.until = Date.now() + ackWaitMs;
            }),
          );
          continue;
        }
        await victim.kill(action);
        const replacement = sleep(500 + Math.random() * 2500).then(() => spawn(kind));
        spawning.add(replacement);
        void replacement.then(
          () => {
            spawning.delete(replacement);
            fault.until = Date.now() + ackWaitMs;
          },
          (err: unknown) => {
            spawning.delete(replacement);
            log(`replacement ${kind} failed to start: ${String(err)}`);
          },
        );
      }
    })();

    await Promise.all([load, chaos]);
    log(`load done: ${creates.length} creates issued; waiting for replies, replacements and quiescence`);
    await Promise.allSettled([...spawning]);
    await Promise.allSettled(work);
    await Promise.allSettled(work); // closes scheduled by late create replies
    for (const p of paused) p.resume();
    for (const k of kinds) if (mesh.running(k).length === 0) await spawn(k);

    const terminal: string[] = [TabState.Ready, TabState.Error, TabState.Closed];
    const quiet = await waitFor(
      'quiescence',
      async () => {
        const tabs = await mesh.allTabs(org);
        if (!tabs.every((t) => terminal.includes(t.state))) return undefined;
        for (const s of [Streams.provision, Streams.sessions]) {
          const c = await mesh.consumer(s.name, s.consumer);
          if (c.pending > 0 || c.ackPending > 0) return undefined;
        }
        return true;
      },
      settleMs,
      1000,
    ).catch(() => false);

    const tabs = await mesh.allTabs(org);
    const snapshot = await mesh.ledger.snapshot();
    const byCrid = new Map<string, number>();
    for (const t of tabs)
      if (t.clientRequestId) byCrid.set(t.clientRequestId, (byCrid.get(t.clientRequestId) ?? 0) + 1);
    const tabIds = new Set(tabs.map((t) => t.id));
    const liveSessions = new Map<string, number>();
    for (const s of snapshot.sessions) if (s.live) liveSessions.set(s.tab, (liveSessions.get(s.tab) ?? 0) + 1);
    const liveSandboxes = new Map<string, number>();
    for (const s of snapshot.sandboxes)
      if (s.live && s.org === org) liveSandboxes.set(s.task, (liveSandboxes.get(s.task) ?? 0) + 1);
    const closedIds = new Set(tabs.filter((t) => t.state === TabState.Closed).map((t) => t.id));
    const inFault = (at: number) => faults.some((f) => at >= f.at && at <= f.until);
    const ttr = tabs
      .filter((t) => t.readyAt)
      .map((t) => ({ at: Date.parse(t.createdAt), ms: Date.parse(t.readyAt!) - Date.parse(t.createdAt) }));
    const acked = creates.filter((c) => c.ackedAt !== null);

    const report: ChaosReport = {
      command: `pnpm chaos --duration ${durationMs / 1000} --rate ${rate}`,
      durationS: durationMs / 1000,
      rate,
      faults: faults.reduce<Record<string, number>>((acc, f) => {
        const key = `${f.action} ${f.kind}`;
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {}),
      createsIssued: creates.length,
      createsAcknowledged: acked.length,
      createsRetried: creates.filter((c) => c.attempts > 1).length,
      createsUnanswered: creates.length - acked.length,
      reachedReady: tabs.filter((t) => t.readyAt !== null).length,
      error: tabs.filter((t) => t.state === TabState.Error).length,
      closed: closedIds.size,
      closeRequests: closes.size,
      stuck: tabs.filter((t) => !terminal.includes(t.state)).length,
      lostAcknowledged: acked.filter((c) => !tabIds.has(c.tabId!)).length,
      duplicateTabs: [...byCrid.values()].filter((n) => n > 1).length,
      duplicateSessions: [...liveSessions.entries()].filter(([tab, n]) => tabIds.has(tab) && n > 1).length,
      leakedSessions: [...liveSessions.entries()].filter(([tab]) => closedIds.has(tab)).reduce((n, [, k]) => n + k, 0),
      readyWithoutSession: tabs.filter((t) => t.state === TabState.Ready && !liveSessions.get(t.id)).length,
      duplicateSandboxes: [...liveSandboxes.values()].filter((n) => n > 1).length,
      quiescent: quiet === true,
      timeToReadyMs: {
        p50: percentile(
          ttr.map((x) => x.ms),
          0.5,
        ),
        p99: percentile(
          ttr.map((x) => x.ms),
          0.99,
        ),
        p99DuringFaults: percentile(
          ttr.filter((x) => inFault(x.at)).map((x) => x.ms),
          0.99,
        ),
        max: percentile(
          ttr.map((x) => x.ms),
          1,
        ),
      },
    };
    process.stdout.write(renderReport(report));
    // What went wrong, tab by tab, to start an investigation from.
    const suspects = tabs.filter(
      (t) =>
        !terminal.includes(t.state) ||
        (closedIds.has(t.id) && liveSessions.get(t.id)) ||
        (liveSessions.get(t.id) ?? 0) > 1,
    );
    for (const t of suspects.slice(0, 20)) {
      const sessions = snapshot.sessions.filter((s) => s.tab === t.id);
      process.stdout.write(`suspect ${JSON.stringify({ tab: t, sessions })}\n`);
    }
    const bad =
      report.stuck +
      report.duplicateSessions +
      report.leakedSessions +
      report.lostAcknowledged +
      report.duplicateTabs +
      report.duplicateSandboxes;
    return bad > 0 ? 1 : 0;
  } finally {
    await mesh.stop();
  }
}

process.exit(await main());
