/**
 * `pnpm bench`: measures tabmesh against the floors of its own parts, in one run on this machine.
 * See docs/bench/README.md for what each figure means.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrashStop } from './crash-stop.js';
import { describeMachine } from './machine.js';
import { parseOptions } from './options.js';
import { mainThreadProfile, summarizeProfile } from './profile-summary.js';
import { charts } from './report/charts.js';
import { markdown } from './report/markdown.js';
import type { BenchResults } from './results.js';
import { runCreate, runFanout, runFloors, runLifecycle, runOverhead, runThroughput } from './run.js';

installCrashStop((err) =>
  process.stderr.write(
    `[bench] failed, stopping what runs: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  ),
);
const opts = parseOptions(process.argv.slice(2));
const args = process.argv.slice(2).filter((a) => a !== '--');
const results: BenchResults = {
  mode: opts.quick ? 'quick' : 'full',
  command: ['pnpm bench', ...args].join(' '),
  machine: describeMachine(),
};
const logDir = mkdtempSync(join(tmpdir(), 'tabmesh-bench-'));
if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
process.stderr.write(
  `[bench] ${results.machine.cpuModel}, ${results.machine.cores} cores; ${results.machine.note}\n[bench] service logs in ${logDir}\n`,
);

const started = Date.now();
const ctx = { opts, logDir, results };
if (opts.phases.has('floors')) await runFloors(ctx);
if (opts.phases.has('create')) await runCreate(ctx);
if (opts.phases.has('overhead')) await runOverhead(ctx);
if (opts.phases.has('fanout')) await runFanout(ctx);
if (opts.phases.has('throughput')) await runThroughput(ctx);
if (opts.phases.has('lifecycle')) await runLifecycle(ctx);

results.loadAverageAtEnd = Math.round(loadavg()[0]! * 100) / 100;
if (opts.profileDir) {
  results.profiles = readdirSync(opts.profileDir).flatMap((label) => {
    const file = mainThreadProfile(join(opts.profileDir!, label));
    return file ? [{ process: label, file, top: summarizeProfile(file, 15).byFunction }] : [];
  });
}

mkdirSync(opts.outDir, { recursive: true });
const md = markdown(results);
writeFileSync(join(opts.outDir, `${opts.reportName}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(opts.outDir, `${opts.reportName}.md`), md);
// The charts are of the other phases: a lifecycle-only run leaves those of the last full run alone.
if (opts.reportName === 'results')
  for (const [name, svg] of Object.entries(charts(results))) writeFileSync(join(opts.outDir, name), `${svg}\n`);
console.log(md);
for (const p of results.profiles ?? []) {
  console.log(`CPU profile ${p.file}:`);
  for (const x of p.top) console.log(`  ${x.selfPct.toFixed(1).padStart(5)}%  ${x.fn}`);
}
console.log(`bench took ${Math.round((Date.now() - started) / 1000)} s; results in ${opts.outDir}`);
process.exit(0);
