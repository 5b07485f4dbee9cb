import type { BenchResults } from '../results.js';
import { barChart, lineChart, type Series } from './svg.js';
import { floorSumP50 } from './targets.js';

/** The SVG files of a run, by file name. */
export function charts(r: BenchResults): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.create) {
    const runs = [...r.create.rates, ...r.create.maxRate.probes].sort((a, b) => a.rate - b.rate);
    const pick = (k: 'p50' | 'p90' | 'p99'): Array<[number, number]> => runs.map((x) => [x.rate, x.latency[k]]);
    const series: Series[] = [
      { name: 'create p50', color: '#1f77b4', points: pick('p50') },
      { name: 'create p90', color: '#2ca02c', points: pick('p90') },
      { name: 'create p99', color: '#d62728', points: pick('p99') },
    ];
    const sum = floorSumP50(r);
    const maxX = Math.max(...runs.map((x) => x.rate));
    if (sum !== null)
      series.push({
        name: 'floors p50 (sum)',
        color: '#7f7f7f',
        dashed: true,
        points: [
          [0, sum],
          [maxX, sum],
        ],
      });
    series.push({
      name: 'p99 limit 50 ms',
      color: '#ff7f0e',
      dashed: true,
      points: [
        [0, 50],
        [maxX, 50],
      ],
    });
    out['create-latency.svg'] = lineChart({
      title: 'Create latency (HTTP POST → 201) against rate',
      xLabel: 'requests per second (open loop)',
      yLabel: 'ms (log scale)',
      series,
      logY: true,
    });
  }
  if (r.throughput) {
    const one = r.throughput.find((t) => t.processes === 1)?.perSecond ?? 0;
    out['throughput.svg'] = lineChart({
      title: 'Provisioning throughput against provisioner processes',
      xLabel: 'provisioner processes (one durable consumer)',
      yLabel: 'tasks provisioned per second',
      series: [
        { name: 'measured', color: '#1f77b4', points: r.throughput.map((t) => [t.processes, t.perSecond]) },
        {
          name: 'linear from 1 process',
          color: '#7f7f7f',
          dashed: true,
          points: r.throughput.map((t) => [t.processes, one * t.processes]),
        },
        {
          name: 'zero-overhead ideal',
          color: '#2ca02c',
          dashed: true,
          points: r.throughput.map((t) => [t.processes, t.idealPerSecond]),
        },
      ],
    });
  }
  if (r.fanout) {
    const groups = r.fanout.oneTask.map((x) => {
      const floor = r.floors?.uws.find((u) => u.subscribers === x.subscribers);
      return {
        label: `${x.subscribers.toLocaleString('en')} subscribers`,
        values: [floor?.latency.p50 ?? NaN, floor?.latency.p99 ?? NaN, x.latency.p50, x.latency.p99],
      };
    });
    out['fanout.svg'] = barChart({
      title: 'Fan-out: change → receipt by every WebSocket subscriber',
      yLabel: 'ms (log scale)',
      groups,
      names: ['uWS floor p50', 'uWS floor p99', 'mesh p50', 'mesh p99'],
      colors: ['#aec7e8', '#1f77b4', '#ffbb78', '#d62728'],
      logY: true,
    });
  }
  return out;
}
