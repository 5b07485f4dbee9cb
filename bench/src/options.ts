import { join } from 'node:path';
import { repoRoot } from '@tabmesh/testkit';

export const Phases = ['floors', 'create', 'overhead', 'fanout', 'throughput'] as const;
export type Phase = (typeof Phases)[number];

export type BenchOptions = {
  quick: boolean;
  phases: Set<Phase>;
  /** Where results.json, results.md and the charts go. */
  outDir: string;
  /** Profile gateway and tab-registry with --cpu-prof into this directory. */
  profileDir: string | null;
  /** Phase lengths. */
  rateMs: number;
  probeMs: number;
  rates: number[];
  fanoutSubscribers: number[];
  fanoutChanges: number;
  throughputSeconds: number;
};

const usage = `usage: pnpm bench [--quick] [--only=floors,create,overhead,fanout,throughput] [--profile] [--out=DIR]
  --quick    shorter phases (about 2 minutes); results go to bench/.out unless --out is given
  --only     run only these phases
  --profile  write V8 CPU profiles of gateway and tab-registry to bench/.profiles and summarise them
  --out      directory for results.json, results.md and the SVG charts (default docs/bench)`;

export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--') continue;
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}\n${usage}`);
    flags.set(m[1]!, m[2] ?? '');
  }
  if (flags.has('help')) {
    console.log(usage);
    process.exit(0);
  }
  for (const k of flags.keys())
    if (!['quick', 'only', 'profile', 'out'].includes(k)) throw new Error(`unknown flag --${k}\n${usage}`);
  const quick = flags.has('quick');
  const only = flags.get('only');
  const phases = new Set<Phase>(only ? (only.split(',') as Phase[]) : Phases);
  for (const p of phases) if (!Phases.includes(p)) throw new Error(`unknown phase ${p}; one of ${Phases.join(', ')}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    quick,
    phases,
    outDir: flags.get('out') || join(repoRoot, quick ? 'bench/.out' : 'docs/bench'),
    profileDir: flags.has('profile') ? join(repoRoot, 'bench/.profiles', stamp) : null,
    rateMs: quick ? 2000 : 5000,
    probeMs: quick ? 1500 : 3000,
    rates: [100, 500, 1000, 2000],
    fanoutSubscribers: [1000, 10_000],
    fanoutChanges: quick ? 5 : 20,
    throughputSeconds: quick ? 3 : 6,
  };
}
