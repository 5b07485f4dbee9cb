import type { OpenLoopResult } from '../open-loop.js';
import type { LifecycleResult } from '../phases/lifecycle.js';
import type { BenchResults } from '../results.js';
import type { Summary } from '../stats.js';
import { floorSumP50, targets } from './targets.js';

const f = (x: number): string =>
  Number.isNaN(x) ? 'n/a' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
const lat = (s: Summary): string => `${f(s.p50)} | ${f(s.p90)} | ${f(s.p99)} | ${f(s.max)}`;
const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;

const short: Record<string, string> = {
  gateway: 'gw',
  'tab-registry': 'reg',
  'nats-server': 'nats',
  provisioner: 'prov',
  'session-creator': 'sess',
  'floor-server': 'floor',
  bench: 'client',
  'mesh-host': 'host',
  reference: 'ref',
  'redis-server': 'redis',
};

/** CPU milliseconds per request by process, e.g. `gw 0.9 · reg 1.0 · nats 0.7 · client 0.4`. */
function cpu(r: OpenLoopResult): string {
  if (!r.cpuMsPerRequest) return '–';
  return Object.entries(r.cpuMsPerRequest)
    .filter(([, v]) => v >= 0.005)
    .map(([k, v]) => `${short[k] ?? k} ${v.toFixed(2)}`)
    .join(' · ');
}

function rateRow(what: string, r: OpenLoopResult): string {
  return row([what, r.rate, r.achievedRate, lat(r.latency), r.errors, r.sent, cpu(r)]);
}

const kinds = [
  'gateway',
  'tab-registry',
  'provisioner',
  'session-creator',
  'mesh-host',
  'nats-server',
  'reference',
  'redis-server',
] as const;

/** How a run's services ran: results from before layouts were measured ran a process each. */
const layoutOf = (x: LifecycleResult): string =>
  ({
    host: 'one process',
    processes: 'a process each',
    bullmq: 'BullMQ + Redis reference',
    'bullmq-split': 'BullMQ + Redis reference, API and workers apart',
  })[x.layout ?? 'processes'];

/** Whole lifecycles: latencies, late tabs, errors, and CPU per tab by process. */
function lifecycleTable(r: BenchResults): string[] {
  const runs = r.lifecycle ?? [];
  const first = runs[0];
  const lines = [
    `Whole tab lifecycles (create → provision → session → ready → close) on fresh tasks, ${first?.tabsPerTask ?? 10} tabs per task, every tab closed when its \`ready\` frame arrives; default settings, tokens on, sim provider 1,500 / 200 ms. Services in one process (\`host\`, as \`pnpm start\` runs them) or a process each (as deploy/ runs them); the BullMQ + Redis reference is the baseline (the same contract on fastify + ws + BullMQ + Redis, bench/src/reference, in one process beside Redis, or with its API and its workers apart). Latencies p50 / p99 in ms; late = not ready within ${(first?.lateMs ?? 12_000) / 1000} s; CPU in ms per tab.`,
    '',
    `| services | creates /s | subscribers per task | tabs | create | time to ready | fan-out | late | errors | ${kinds.map((k) => short[k] ?? k).join(' | ')} | mesh total | client |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|${kinds.map(() => '---:|').join('')}---:|---:|`,
  ];
  for (const x of runs) {
    const c = (k: string) => {
      const v = x.cpuMsPerTab[k];
      return v === undefined ? '–' : v.toFixed(2);
    };
    lines.push(
      row([
        layoutOf(x),
        x.rate,
        x.subscribersPerTask,
        x.tabs,
        `${f(x.create.p50)} / ${f(x.create.p99)}`,
        `${f(x.timeToReady.p50)} / ${f(x.timeToReady.p99)}`,
        `${f(x.fanout.p50)} / ${f(x.fanout.p99)}`,
        x.late,
        x.errors,
        ...kinds.map(c),
        `**${x.cpuMsPerTabMesh.toFixed(2)}**`,
        c('bench'),
      ]),
    );
  }
  return [...lines, '', ...busTable(runs), '', ...kernelTable(runs)];
}

/**
 * Read and write system calls and context switches per tab by process: steady between runs where
 * CPU time is not, so a change to them shows in one run; they do not predict the CPU (docs/bench/README.md,
 * twelfth round).
 */
function kernelTable(runs: LifecycleResult[]): string[] {
  const measured = runs.filter((x) => x.kernelPerTab);
  if (measured.length === 0) return [];
  const shown = [...kinds, 'bench'].filter((k) => measured.some((x) => x.kernelPerTab?.[k]));
  const lines = [
    'Read and write system calls / context switches per tab by process, from /proc over the same window as the CPU.',
    '',
    `| services | creates /s | subscribers per task | ${shown.map((k) => short[k] ?? k).join(' | ')} |`,
    `|---|---:|---:|${shown.map(() => '---:|').join('')}`,
  ];
  for (const x of measured) {
    const k = (kind: string) => {
      const v = x.kernelPerTab?.[kind];
      return v ? `${v.ioCalls.toFixed(1)} / ${v.switches.toFixed(1)}` : '–';
    };
    lines.push(row([layoutOf(x), x.rate, x.subscribersPerTask, ...shown.map(k)]));
  }
  return lines;
}

const busKinds = ['gateway', 'tab-registry', 'provisioner', 'session-creator', 'bench'] as const;

/** Bus messages per tab by process, from nats-server's `/connz`: the same window as the CPU, but not noisy. */
function busTable(runs: LifecycleResult[]): string[] {
  const lines = [
    'Bus messages per tab (published / delivered) by process, counted by nats-server over the same window as the CPU.',
    '',
    `| services | creates /s | subscribers per task | ${busKinds.map((k) => short[k] ?? k).join(' | ')} |`,
    `|---|---:|---:|${busKinds.map(() => '---:|').join('')}`,
  ];
  for (const x of runs.filter((x) => x.layout === 'host' || x.layout === 'processes' || x.layout === undefined)) {
    const m = (k: string) => {
      const t = x.busPerTab[k];
      return t ? `${t.inMsgs.toFixed(1)} / ${t.outMsgs.toFixed(1)}` : 'n/a';
    };
    lines.push(row([layoutOf(x), x.rate, x.subscribersPerTask, ...busKinds.map(m)]));
  }
  return lines;
}

/** The Markdown report: machine, then one table per measurement, then the targets. */
export function markdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC with \`${r.command}\` (${r.mode} run).`);
  lines.push('');
  lines.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; ${m.natsServer}; open-files limit ${m.openFilesLimit}; 1-minute load average ${m.loadAverageAtStart} at the start and ${r.loadAverageAtEnd ?? 'n/a'} at the end (above ${m.cores}, other work was competing for the cores).`,
  );
  lines.push(`**Note:** ${m.note}. nats-server is one process with a file store.`);
  lines.push('');
  if (r.floors || r.create || r.overhead || r.fanout) {
    lines.push(
      'Latencies in ms: p50 | p90 | p99 | max. Open-loop rates: each request is timed from its scheduled send time.',
    );
    lines.push('');
    lines.push('| measurement | rate /s | achieved /s | p50 | p90 | p99 | max | errors | n | CPU ms per request |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  }
  if (r.floors) {
    const q = r.floors.request;
    lines.push(rateRow('floor: NATS request/reply echo', q.natsRequestReply));
    lines.push(rateRow('floor: KV create', q.kvCreate));
    lines.push(rateRow("floor: hono on the gateway's HTTP server (uWS) POST", q.http));
    if (q.nodeServerHttp) lines.push(rateRow('floor: hono + node-server POST (for comparison)', q.nodeServerHttp));
    lines.push(row(['floor: KV put → watch', '–', '–', lat(r.floors.kvWatch), 0, r.floors.kvWatch.n, '–']));
    for (const u of r.floors.uws)
      lines.push(
        row([
          `floor: uWS publish → ${u.subscribers.toLocaleString('en')} ws clients`,
          '–',
          '–',
          lat(u.latency),
          u.changes * u.subscribers - u.received,
          u.received,
          '–',
        ]),
      );
  }
  if (r.create) {
    for (const x of r.create.rates) lines.push(rateRow('create: POST → 201', x));
    for (const x of r.create.maxRate.probes) lines.push(rateRow('create, max-rate probe', x));
  }
  if (r.overhead) {
    const o = r.overhead;
    lines.push(
      row([
        `time to ready, fresh task (sim ${o.providerMs} ms)`,
        20,
        '–',
        lat(o.timeToReady),
        o.tabs - o.ready,
        o.ready,
        '–',
      ]),
    );
    lines.push(
      row(['mesh overhead: time to ready − sim latency', 20, '–', lat(o.overhead), o.tabs - o.ready, o.ready, '–']),
    );
    lines.push(
      row([
        'mesh overhead, server clocks (readyAt − createdAt − sim)',
        20,
        '–',
        lat(o.serverOverhead),
        '–',
        o.serverOverhead.n,
        '–',
      ]),
    );
  }
  if (r.fanout) {
    for (const x of r.fanout.oneTask) {
      lines.push(
        row([
          `fan-out: KV change → ${x.subscribers.toLocaleString('en')} subscribers of one task`,
          '–',
          '–',
          lat(x.latency),
          x.changes * x.subscribers - x.received,
          x.received,
          '–',
        ]),
      );
    }
    const mt = r.fanout.manyTasks;
    if (mt)
      lines.push(
        row([
          `fan-out: ${mt.tasks.toLocaleString('en')} tasks × ${mt.subscribersPerTask} subscribers, changes`,
          mt.changesPerSecond,
          '–',
          lat(mt.latency),
          mt.expected - mt.received,
          mt.received,
          '–',
        ]),
      );
  }
  lines.push('');
  if (r.create) {
    const sum = floorSumP50(r);
    lines.push(`Highest create rate holding p99 < 50 ms with no errors: **${r.create.maxRate.maxRate}/s**.`);
    if (sum !== null) {
      for (const x of r.create.rates)
        lines.push(
          `- create p50 ÷ floors (HTTP + request/reply + KV create = ${f(sum)} ms at ${r.floors!.rate}/s) at ${x.rate}/s: **${(x.latency.p50 / sum).toFixed(2)}×**`,
        );
    }
    lines.push('');
  }
  if (r.fanout) {
    lines.push(
      'Gateway resident memory (VmRSS): ' +
        r.fanout.oneTask
          .map(
            (x) =>
              `${x.gatewayRssMiB.withSockets} MiB with ${x.subscribers.toLocaleString('en')} sockets (${x.gatewayRssMiB.before} MiB before)`,
          )
          .join('; ') +
        '.',
    );
    lines.push('');
  }
  if (r.throughput) {
    lines.push(
      '| provisioner processes | concurrency each | sim provision ms | tasks | provisioned /s | ideal /s | × one process |',
    );
    lines.push('|---:|---:|---:|---:|---:|---:|---:|');
    const one = r.throughput.find((t) => t.processes === 1)?.perSecond ?? NaN;
    for (const t of r.throughput)
      lines.push(
        row([
          t.processes,
          t.concurrencyPerProcess,
          t.provisionMs,
          `${t.provisioned}/${t.tasks}`,
          f(t.perSecond),
          t.idealPerSecond,
          `${(t.perSecond / one).toFixed(2)}×`,
        ]),
      );
    lines.push('');
  }
  if (r.lifecycle?.length) lines.push(...lifecycleTable(r), '');
  lines.push('| target | goal | this run | met |');
  lines.push('|---|---|---|---|');
  for (const t of targets(r))
    lines.push(row([t.name, t.target, t.figure, t.met === null ? 'not measured' : t.met ? 'yes' : '**no**']));
  lines.push('');
  lines.push(
    'Charts: [create latency against rate](create-latency.svg), [provisioning throughput against processes](throughput.svg), [fan-out latency](fanout.svg).',
  );
  return `${lines.join('\n')}\n`;
}
