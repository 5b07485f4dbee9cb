import type { FanoutResult, RequestFloors } from './floors.js';
import type { Machine } from './machine.js';
import type { OpenLoopResult } from './open-loop.js';
import type { MaxRateSearch } from './phases/create.js';
import type { ManyTasksResult, MeshFanoutResult } from './phases/fanout.js';
import type { LifecycleResult } from './phases/lifecycle.js';
import type { OverheadResult } from './phases/overhead.js';
import type { ThroughputResult } from './phases/throughput.js';
import type { Summary } from './stats.js';

/** Everything one `pnpm bench` run measured; written as docs/bench/results.json. */
export type BenchResults = {
  mode: 'quick' | 'full';
  command: string;
  machine: Machine;
  loadAverageAtEnd?: number;
  floors?: {
    rate: number;
    request: RequestFloors;
    kvWatch: Summary;
    uws: FanoutResult[];
  };
  create?: {
    /** The whole mesh at each rate: provisioner and session-creator work off the creates meanwhile. */
    rates: OpenLoopResult[];
    maxRate: MaxRateSearch;
  };
  overhead?: OverheadResult;
  fanout?: { oneTask: MeshFanoutResult[]; manyTasks?: ManyTasksResult };
  throughput?: ThroughputResult[];
  /** Whole tab lifecycles at each rate, default settings (sim 1,500 / 200 ms). */
  lifecycle?: LifecycleResult[];
  profiles?: Array<{ process: string; file: string; top: Array<{ fn: string; selfPct: number }> }>;
};
