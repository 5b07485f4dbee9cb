import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { natsServerBinary, serverThreads } from '@tabmesh/nats-launcher';

export type Machine = {
  date: string;
  node: string;
  natsServer: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  openFilesLimit: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverageAtStart: number;
  note: string;
};

function natsVersion(): string {
  try {
    const version = execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim();
    return `${version} (GOMAXPROCS ${serverThreads()})`;
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

function openFiles(): string {
  try {
    return execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  const fromOs = cpus()[0]?.model;
  if (fromOs) return fromOs.trim();
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the figures were measured on; printed with every run. */
export function describeMachine(): Machine {
  const cores = cpus().length;
  return {
    date: new Date().toISOString(),
    node: process.version,
    natsServer: natsVersion(),
    cpuModel: cpuModel(),
    cores,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    openFilesLimit: openFiles(),
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
    note: `the load generator (this process and its WebSocket clients), nats-server and every tabmesh process share these ${cores} cores`,
  };
}

/** Resident memory of a process in MiB, from /proc/<pid>/status (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
}

/** CPU seconds each process spent between two readings of `cpuSeconds` by name, to 10 ms. */
export function cpuSpent(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = Math.round((v - (before[k] ?? 0)) * 100) / 100;
  return out;
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * What the kernel did for a process so far: its read and write system calls (reads, writes, sends
 * and receives of every thread, from /proc/<pid>/io) and the context switches of its threads
 * (voluntary and not, from /proc/<pid>/task/<tid>/status; a thread that has exited is not counted).
 * Steady from run to run where CPU time is not, so a change to them shows in one run; fewer of
 * them has not always meant less CPU (docs/bench/README.md, twelfth round).
 */
export type KernelCounters = { ioCalls: number; switches: number };

/** A `name: number` line of a /proc file. */
const procField = (text: string, name: string): number =>
  Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);

export function kernelCounters(pid: number): KernelCounters {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    let switches = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
        switches += procField(status, 'voluntary_ctxt_switches') + procField(status, 'nonvoluntary_ctxt_switches');
      } catch {
        // The thread exited between the listing and the read.
      }
    }
    return { ioCalls: procField(io, 'syscr') + procField(io, 'syscw'), switches };
  } catch {
    return { ioCalls: Number.NaN, switches: Number.NaN };
  }
}

/** What each process's kernel counters grew by between two readings, by name. */
export function kernelSpent(
  before: Record<string, KernelCounters>,
  after: Record<string, KernelCounters>,
): Record<string, KernelCounters> {
  const out: Record<string, KernelCounters> = {};
  for (const [k, v] of Object.entries(after)) {
    const b = before[k] ?? { ioCalls: 0, switches: 0 };
    out[k] = { ioCalls: v.ioCalls - b.ioCalls, switches: v.switches - b.switches };
  }
  return out;
}

/** The same keys, each value mapped. */
export function mapValues<A, B>(record: Record<string, A>, fn: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
