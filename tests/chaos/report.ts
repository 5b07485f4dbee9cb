/** What a chaos run found; every count is of tabs unless it says otherwise. */
export type ChaosReport = {
  command: string;
  durationS: number;
  rate: number;
  /** Faults injected, by signal and service. */
  faults: Record<string, number>;
  createsIssued: number;
  createsAcknowledged: number;
  /** Creates whose first request got no ok reply, retried with the same clientRequestId. */
  createsRetried: number;
  createsUnanswered: number;
  reachedReady: number;
  error: number;
  closed: number;
  closeRequests: number;
  stuck: number;
  lostAcknowledged: number;
  duplicateTabs: number;
  duplicateSessions: number;
  leakedSessions: number;
  readyWithoutSession: number;
  duplicateSandboxes: number;
  quiescent: boolean;
  timeToReadyMs: { p50: number; p99: number; p99DuringFaults: number; max: number };
};

/** The value below which a fraction `q` of `xs` falls (nearest rank); 0 for no values. */
export function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function renderReport(r: ChaosReport): string {
  const rows: [string, string | number][] = [
    ['command', r.command],
    [
      'faults injected',
      Object.entries(r.faults)
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ') || 'none',
    ],
    ['creates issued', r.createsIssued],
    ['creates acknowledged', r.createsAcknowledged],
    ['creates retried (same clientRequestId)', r.createsRetried],
    ['creates never acknowledged', r.createsUnanswered],
    ['reached ready', r.reachedReady],
    ['error', r.error],
    ['closed', r.closed],
    ['stuck (non-terminal after settle)', r.stuck],
    ['acknowledged but lost', r.lostAcknowledged],
    ['duplicate tabs (per clientRequestId)', r.duplicateTabs],
    ['duplicate sessions (tabs with >1 live)', r.duplicateSessions],
    ['leaked sessions (live, tab closed)', r.leakedSessions],
    ['ready tabs without a live session', r.readyWithoutSession],
    ['tasks with >1 live sandbox', r.duplicateSandboxes],
    ['quiescent (queues empty)', r.quiescent ? 'yes' : 'no'],
    ['time to ready p50 / p99 / max', `${r.timeToReadyMs.p50} / ${r.timeToReadyMs.p99} / ${r.timeToReadyMs.max} ms`],
    ['time to ready p99 during faults', `${r.timeToReadyMs.p99DuringFaults} ms`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `\nchaos report\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n${JSON.stringify(r)}\n`;
}
