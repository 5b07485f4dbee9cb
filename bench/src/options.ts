import { join } from 'node:path';
import { repoRoot } from '@tabmesh/testkit';

export const Phases = ['floors', 'create', 'overhead', 'fanout', 'throughput', 'lifecycle'] as const;
export type Phase = (typeof Phases)[number];

export type BenchOptions = {
  quick: boolean;
  phases: Set<Phase>;
  /** Where the report (results.json, results.md, charts) goes. */
  outDir: string;
  /** Base name of the report files: `results`, or `lifecycle` when only that phase runs. */
  reportName: string;
  /** Profile services with --cpu-prof into this directory. */
  profileDir: string | null;
  /** Phase lengths. */
  rateMs: number;
  probeMs: number;
  rates: number[];
  fanoutSubscribers: number[];
  fanoutChanges: number;
  throughputSeconds: number;
  lifecycle: {
    /** One run each, on a fresh mesh. */
    runs: LifecycleRun[];
    /** Seconds of creates per run. */
    seconds: number;
  };
};

/**
 * How the four services run: `host`, together in one process, as `pnpm start` runs them
 * (scripts/mesh-host.ts); `processes`, each in its own, as deploy/ runs them; `bullmq`, not
 * tabmesh but the baseline the lifecycle issue compares it with: the same contract built on
 * fastify + ws + BullMQ + Redis (bench/src/reference), in one process beside its Redis;
 * `bullmq-split`, the same with HTTP and WebSocket in one process and the workers in another.
 */
export const Layouts = ['host', 'processes', 'bullmq', 'bullmq-split'] as const;
export type Layout = (typeof Layouts)[number];
export type LifecycleRun = { rate: number; subscribers: number; layout: Layout };

const usage = `usage: pnpm bench [--quick] [--only=PHASES | --phase PHASES] [--rate N] [--seconds N] [--subscribers N] [--profile] [--out=DIR]
  --quick        shorter phases (about 2 minutes); results go to bench/.out unless --out is given
  --only/--phase run only these phases (${Phases.join(', ')})
  --rate         lifecycle: only this rate (creates/s); results go to bench/.out unless --out is given
  --seconds      lifecycle: seconds of creates per rate (default 10, 5 in --quick)
  --subscribers  lifecycle: WebSocket subscribers per task for the --rate run (default 1)
  --layout       lifecycle: host (the four services in one process, as pnpm start runs them; default)
                 or processes (one process each, as deploy/ runs them) for the --rate run, or bullmq
                 (the BullMQ + Redis reference build of the same contract, the baseline) or
                 bullmq-split (the same, its API and its workers in two processes)
  --profile      write V8 CPU profiles of the services to bench/.profiles and summarise them
  --out          directory for the report and the SVG charts (default docs/bench)`;

const Flags = ['quick', 'only', 'phase', 'profile', 'out', 'rate', 'seconds', 'subscribers', 'layout', 'help'];
const Valued = new Set(['only', 'phase', 'out', 'rate', 'seconds', 'subscribers', 'layout']);

function positive(flags: Map<string, string>, name: string): number | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, not ${JSON.stringify(raw)}`);
  return n;
}

/** `--flag=value` and `--flag value` alike. */
function readFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(args[i] ?? '');
    if (!m?.[1]) throw new Error(`unknown argument ${args[i]}\n${usage}`);
    const name = m[1];
    if (!Flags.includes(name)) throw new Error(`unknown flag --${name}\n${usage}`);
    let value = m[2];
    if (value === undefined && Valued.has(name)) {
      value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value\n${usage}`);
      i++;
    }
    flags.set(name, value ?? '');
  }
  return flags;
}

export function parseOptions(argv: string[]): BenchOptions {
  const flags = readFlags(argv);
  if (flags.has('help')) {
    console.log(usage);
    process.exit(0);
  }
  const quick = flags.has('quick');
  const only = flags.get('only') ?? flags.get('phase');
  const phases = new Set<Phase>(only ? (only.split(',') as Phase[]) : Phases);
  for (const p of phases) if (!Phases.includes(p)) throw new Error(`unknown phase ${p}; one of ${Phases.join(', ')}`);
  const rate = positive(flags, 'rate');
  const subscribers = positive(flags, 'subscribers');
  const seconds = positive(flags, 'seconds') ?? (quick ? 5 : 10);
  const layout = (flags.get('layout') ?? 'host') as Layout;
  if (!Layouts.includes(layout)) throw new Error(`--layout is one of ${Layouts.join(', ')}, not ${layout}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const scratch = quick || rate !== undefined;
  return {
    quick,
    phases,
    outDir: flags.get('out') || join(repoRoot, scratch ? 'bench/.out' : 'docs/bench'),
    reportName: phases.size === 1 && phases.has('lifecycle') ? 'lifecycle' : 'results',
    profileDir: flags.has('profile') ? join(repoRoot, 'bench/.profiles', stamp) : null,
    rateMs: quick ? 2000 : 5000,
    probeMs: quick ? 1500 : 3000,
    rates: [100, 500, 1000, 2000],
    fanoutSubscribers: [1000, 10_000],
    fanoutChanges: quick ? 5 : 20,
    throughputSeconds: quick ? 3 : 6,
    lifecycle: {
      seconds,
      runs:
        rate !== undefined
          ? [{ rate, subscribers: subscribers ?? 1, layout }]
          : [
              ...[100, 200, 400, 1000].map((r) => ({ rate: r, subscribers: 1, layout: 'host' as const })),
              { rate: 400, subscribers: 10, layout: 'host' },
              // The same load with a process per service, as deployments run it: what the host saves.
              { rate: 200, subscribers: 1, layout: 'processes' },
              // The baseline, in the same run: the figures to beat on this machine.
              { rate: 200, subscribers: 1, layout: 'bullmq' },
              { rate: 400, subscribers: 10, layout: 'bullmq' },
              { rate: 1000, subscribers: 1, layout: 'bullmq' },
              { rate: 1000, subscribers: 1, layout: 'bullmq-split' },
            ],
    },
  };
}
