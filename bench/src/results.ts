import type { FanoutResult, RequestFloors } from './floors.js';
import type { Machine } from './machine.js';
import type { OpenLoopResult } from './open-loop.js';
import type { MaxRateSearch } from './phases/create.js';
import type { ManyTasksResult, MeshFanoutResult } from './phases/fanout.js';
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
    /** Gateway and tab-registry only: the request path, with no worker competing for the CPU. */
    requestPath: OpenLoopResult[];
    maxRate: MaxRateSearch;
    /** The whole mesh (provisioner and session-creator working off the creates) at one rate. */
    fullMesh: OpenLoopResult[];
  };
  overhead?: OverheadResult;
  fanout?: { oneTask: MeshFanoutResult[]; manyTasks?: ManyTasksResult };
  throughput?: ThroughputResult[];
  profiles?: Array<{ process: string; file: string; top: Array<{ fn: string; selfPct: number }> }>;
};
