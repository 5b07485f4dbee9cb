import type { Pool } from 'undici';
import { postJson } from '../http-client.js';
import { type OpenLoopResult, runOpenLoop } from '../open-loop.js';

export type CreateOptions = {
  /** Resolves once the work a previous run left behind is done, so runs do not bleed into each other. */
  settle: () => Promise<void>;
  pool: Pool;
  org: string;
  tasks: number;
  durationMs: number;
  /** Wraps each measured run, e.g. to account the CPU it cost. */
  measure?: (run: () => Promise<OpenLoopResult>) => Promise<OpenLoopResult>;
};

const MaxP99Ms = 50;

/** A create succeeds when the gateway answers 201 with the placeholder tab. */
export function createAt(
  opts: CreateOptions,
  label: string,
  rate: number,
  durationMs = opts.durationMs,
): Promise<OpenLoopResult> {
  const run = () =>
    runOpenLoop({
      rate,
      durationMs,
      fire: (i) => postJson(opts.pool, `/v1/orgs/${opts.org}/tasks/${label}-${i % opts.tasks}/tabs`, '{}', 201),
    });
  return opts.measure ? opts.measure(run) : run();
}

export const holds = (r: OpenLoopResult): boolean =>
  r.errors === 0 && r.latency.p99 < MaxP99Ms && r.achievedRate >= 0.95 * r.rate;

/** Each rate in turn, with a pause between so one rate's backlog does not spill into the next. */
export async function createSweep(opts: CreateOptions, rates: number[], label: string): Promise<OpenLoopResult[]> {
  const out: OpenLoopResult[] = [];
  for (const rate of rates) {
    await opts.settle();
    out.push(await createAt(opts, `${label}-${rate}`, rate));
  }
  return out;
}

export type MaxRateSearch = { maxRate: number; probes: OpenLoopResult[] };

/**
 * The highest rate that holds p99 < 50 ms with no errors: grows by 1.25× from `from` until a rate
 * fails, then halves the gap between the last pass and the first failure `refine` times.
 */
export async function searchMaxRate(
  opts: CreateOptions,
  from: number,
  probeMs: number,
  refine: number,
  ceiling = 20_000,
): Promise<MaxRateSearch> {
  const probes: OpenLoopResult[] = [];
  const probe = async (rate: number) => {
    await opts.settle();
    const r = await createAt(opts, `max-${Math.round(rate)}`, Math.round(rate), probeMs);
    probes.push(r);
    return holds(r);
  };
  let pass = 0;
  let fail = 0;
  let rate = from;
  while (rate <= ceiling) {
    if (await probe(rate)) {
      pass = rate;
      rate = Math.round(rate * 1.25);
    } else {
      fail = rate;
      break;
    }
  }
  if (fail === 0) return { maxRate: pass, probes };
  for (let i = 0; i < refine && fail - pass > Math.max(10, pass * 0.1); i++) {
    const mid = Math.round((pass + fail) / 2);
    if (await probe(mid)) pass = mid;
    else fail = mid;
  }
  return { maxRate: pass, probes };
}
