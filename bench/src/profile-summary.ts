import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: Node[]; samples?: number[]; timeDeltas?: number[] };

export type ProfileTop = Array<{ fn: string; selfPct: number }>;

/** The biggest profile in a process's directory: its main thread (the loader thread's is small). */
export function mainThreadProfile(dir: string): string | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  return files[0] ?? null;
}

/** Where a frame lives: a package name, `node:` internals, or a repository path. */
function place(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const i = url.search(/\/(services|libs|bench)\//);
  return i >= 0 ? url.slice(i + 1) : url;
}

/**
 * Self time by function (and, second, by package) of a V8 .cpuprofile: where the process spends
 * its CPU, idle time left out.
 */
export function summarizeProfile(
  file: string,
  top = 25,
): { byFunction: ProfileTop; byPlace: ProfileTop; busyMs: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    for (let i = 0; i < p.samples.length; i++)
      self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  } else {
    for (const n of p.nodes) self.set(n.id, n.hitCount ?? 0);
  }
  const byFn = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let busy = 0;
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)' || name === '(program)' || name === '(root)') continue;
    busy += t;
    const key = `${name} ${place(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const pl = name === '(garbage collector)' ? '(gc)' : place(n.callFrame.url);
    byPlace.set(pl, (byPlace.get(pl) ?? 0) + t);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, t]) => ({ fn, selfPct: Math.round((t / busy) * 1000) / 10 }));
  return { byFunction: rank(byFn), byPlace: rank(byPlace), busyMs: Math.round(busy / 1000) };
}

// `tsx bench/src/profile-summary.ts FILE…` prints the summary of each profile.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const file of process.argv.slice(2)) {
    const s = summarizeProfile(file);
    console.log(`\n${file}: ${s.busyMs} ms busy`);
    console.log('  by place:');
    for (const x of s.byPlace) console.log(`    ${x.selfPct.toFixed(1).padStart(5)}%  ${x.fn}`);
    console.log('  by function:');
    for (const x of s.byFunction) console.log(`    ${x.selfPct.toFixed(1).padStart(5)}%  ${x.fn}`);
  }
}
