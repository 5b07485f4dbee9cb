import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from './errors.js';
import { type TabRecord, TabRecordSchema, TabState } from './tab.js';
import {
  canTransition,
  newTab,
  pendingStateFor,
  toClosed,
  toError,
  toPendingProvision,
  toPendingSession,
  toReady,
  toRetry,
  toSandboxLost,
  withSessionProgress,
} from './tab-machine.js';
import type { TaskRecord } from './task.js';
import { newTask } from './task-machine.js';

const states = Object.values(TabState);
const now = '2030-01-02T03:04:05.000Z';
const earlier = '2030-01-01T00:00:00.000Z';
const failure: ErrorInfo = { code: 'session_failed', message: 'boom', retryable: true };
const sandbox = { provider: 'sim', id: 'sbx-1', endpoint: null };

// Written out in full rather than derived, so a change to the table has to change this test.
//                                       to: pending_provision  pending_session_create  ready  error  closed
const matrix: Record<TabState, readonly boolean[]> = {
  pending_provision: /*                  */ [false, true, false, true, true],
  pending_session_create: /*             */ [true, false, true, true, true],
  ready: /*                              */ [true, false, false, false, true],
  error: /*                              */ [true, true, false, false, true],
  closed: /*                             */ [false, false, false, false, false],
};

/** A plausible record in each state, with fields the state would carry. */
function tabIn(state: TabState): TabRecord {
  return {
    v: 1,
    id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    org: 'o',
    task: 't',
    state,
    title: 'a tab',
    agent: 'mock',
    model: null,
    sessionId: state === TabState.Ready || state === TabState.Closed ? 'ses-1' : null,
    sandboxId: state === TabState.PendingProvision ? null : 'sbx-0',
    unread: state === TabState.Ready,
    progress:
      state === TabState.PendingProvision
        ? 'Queued'
        : state === TabState.PendingSessionCreate
          ? 'Creating session'
          : null,
    step:
      state === TabState.PendingProvision
        ? 'queued'
        : state === TabState.PendingSessionCreate
          ? 'creating_session'
          : null,
    error: state === TabState.Error ? failure : null,
    attempt: 2,
    clientRequestId: 'req-1',
    createdAt: earlier,
    updatedAt: earlier,
    readyAt: state === TabState.Ready ? earlier : null,
    closedAt: state === TabState.Closed ? earlier : null,
  };
}

const provisionedTask: TaskRecord = { ...newTask('o', 't', earlier), state: 'provisioned', generation: 1, sandbox };

/** Every named transition, the only state it leads to, and the states it accepts. */
const transitions: { name: string; run: (tab: TabRecord) => TabRecord | null; to: TabState; from: TabState[] }[] = [
  {
    name: 'toPendingSession',
    run: (t) => toPendingSession(t, 'sbx-1', now),
    to: 'pending_session_create',
    from: ['pending_provision'],
  },
  {
    name: 'toPendingProvision',
    run: (t) => toPendingProvision(t, now),
    to: 'pending_provision',
    from: ['pending_session_create'],
  },
  {
    name: 'toSandboxLost',
    run: (t) => toSandboxLost(t, 'sbx-0', now),
    to: 'pending_provision',
    from: ['pending_session_create', 'ready'],
  },
  {
    name: 'toReady',
    run: (t) => toReady(t, { sessionId: 'ses-2', sandboxId: 'sbx-1' }, now),
    to: 'ready',
    from: ['pending_session_create'],
  },
  {
    name: 'toError',
    run: (t) => toError(t, failure, now),
    to: 'error',
    from: ['pending_provision', 'pending_session_create'],
  },
  {
    name: 'toClosed',
    run: (t) => toClosed(t, now),
    to: 'closed',
    from: ['pending_provision', 'pending_session_create', 'ready', 'error'],
  },
  {
    name: 'toRetry (task provisioned)',
    run: (t) => toRetry(t, provisionedTask, now),
    to: 'pending_session_create',
    from: ['error'],
  },
  { name: 'toRetry (task never seen)', run: (t) => toRetry(t, null, now), to: 'pending_provision', from: ['error'] },
];

describe('tab transition table', () => {
  const pairs = states.flatMap((from) => states.map((to, i) => ({ from, to, allowed: matrix[from][i] })));

  it.each(pairs)('$from -> $to allowed: $allowed', ({ from, to, allowed }) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('reaches every allowed pair through a named transition, and no refused one', () => {
    const reached = new Set<string>();
    for (const t of transitions) {
      for (const from of states) {
        const next = t.run(tabIn(from));
        if (next) reached.add(`${from}->${next.state}`);
      }
    }
    const allowedPairs = pairs.filter((p) => p.allowed).map((p) => `${p.from}->${p.to}`);
    expect([...reached].sort()).toEqual(allowedPairs.sort());
  });
});

describe('named tab transitions', () => {
  const cases = transitions.flatMap((t) => states.map((from) => ({ ...t, from, accepts: t.from.includes(from) })));

  it.each(cases)('$name from $from: accepted $accepts', ({ run, from, to, accepts }) => {
    const before = tabIn(from);
    const next = run(before);
    if (!accepts) {
      expect(next).toBeNull();
      return;
    }
    expect(next?.state).toBe(to);
    expect(canTransition(from, to)).toBe(true);
    expect(() => TabRecordSchema.parse(next)).not.toThrow();
    expect(next?.updatedAt).toBe(now);
    // A transition returns a new record; the one read from KV is left as it was.
    expect(before).toEqual(tabIn(from));
  });

  it('toPendingSession records the sandbox and the session step', () => {
    const tab = tabIn('pending_provision');
    expect(toPendingSession(tab, 'sbx-1', now)).toEqual({
      ...tab,
      state: 'pending_session_create',
      sandboxId: 'sbx-1',
      step: 'creating_session',
      progress: 'Creating session',
      updatedAt: now,
    });
  });

  it('toPendingProvision forgets the lost sandbox and starts a new attempt', () => {
    const tab = tabIn('pending_session_create');
    expect(toPendingProvision(tab, now)).toEqual({
      ...tab,
      state: 'pending_provision',
      sandboxId: null,
      attempt: 3,
      step: 'queued',
      progress: 'Queued (sandbox lost, provisioning a new one)',
      updatedAt: now,
    });
  });

  it('toSandboxLost forgets the session and sandbox of a ready tab and starts a new attempt', () => {
    const tab = tabIn('ready');
    expect(toSandboxLost(tab, 'sbx-0', now)).toEqual({
      ...tab,
      state: 'pending_provision',
      sessionId: null,
      sandboxId: null,
      attempt: 3,
      step: 'queued',
      progress: 'Queued (sandbox lost, provisioning a new one)',
      readyAt: null,
      updatedAt: now,
    });
  });

  it('toSandboxLost leaves a tab that is on another sandbox', () => {
    expect(toSandboxLost(tabIn('ready'), 'sbx-other', now)).toBeNull();
    expect(toSandboxLost(tabIn('pending_session_create'), 'sbx-other', now)).toBeNull();
  });

  it('toReady records the session, marks the tab unread and clears progress', () => {
    const tab = { ...tabIn('pending_session_create'), progress: 'Creating session (retrying in 2 s, 2 of 5)' };
    expect(toReady(tab, { sessionId: 'ses-2', sandboxId: 'sbx-1' }, now)).toEqual({
      ...tab,
      state: 'ready',
      sessionId: 'ses-2',
      sandboxId: 'sbx-1',
      unread: true,
      step: 'ready',
      progress: null,
      error: null,
      readyAt: now,
      updatedAt: now,
    });
  });

  it('toError records the error and the error step', () => {
    const tab = tabIn('pending_provision');
    expect(toError(tab, failure, now)).toEqual({
      ...tab,
      state: 'error',
      step: 'error',
      progress: null,
      error: failure,
      updatedAt: now,
    });
  });

  it('toClosed clears unread and progress but keeps the session for its destroy job', () => {
    const tab = tabIn('ready');
    expect(toClosed(tab, now)).toEqual({
      ...tab,
      state: 'closed',
      unread: false,
      progress: null,
      step: null,
      closedAt: now,
      updatedAt: now,
    });
    expect(toClosed(tabIn('error'), now)?.error).toEqual(failure);
  });

  it('toRetry starts a new attempt at the step pendingStateFor picks', () => {
    const tab = tabIn('error');
    expect(toRetry(tab, provisionedTask, now)).toEqual({
      ...tab,
      state: 'pending_session_create',
      sandboxId: 'sbx-1',
      attempt: 3,
      error: null,
      step: 'creating_session',
      progress: 'Creating session',
      updatedAt: now,
    });
    expect(toRetry(tab, { ...provisionedTask, state: 'error', sandbox: null }, now)).toEqual({
      ...tab,
      state: 'pending_provision',
      sandboxId: null,
      attempt: 3,
      error: null,
      step: 'queued',
      progress: 'Queued',
      updatedAt: now,
    });
  });
});

describe('which pending state', () => {
  const tasks: { name: string; task: TaskRecord | null; state: TabState; sandboxId: string | null }[] = [
    { name: 'no task', task: null, state: 'pending_provision', sandboxId: null },
    { name: 'unprovisioned', task: newTask('o', 't', earlier), state: 'pending_provision', sandboxId: null },
    {
      name: 'provisioning',
      task: { ...provisionedTask, state: 'provisioning', sandbox: null },
      state: 'pending_provision',
      sandboxId: null,
    },
    {
      name: 'error',
      task: { ...provisionedTask, state: 'error', sandbox: null },
      state: 'pending_provision',
      sandboxId: null,
    },
    // A provisioned record without a sandbox cannot host a session; it waits for provisioning.
    {
      name: 'provisioned, no sandbox',
      task: { ...provisionedTask, sandbox: null },
      state: 'pending_provision',
      sandboxId: null,
    },
    { name: 'provisioned', task: provisionedTask, state: 'pending_session_create', sandboxId: 'sbx-1' },
  ];

  it.each(tasks)('task $name -> $state', ({ task, state, sandboxId }) => {
    const step = state === 'pending_provision' ? 'queued' : 'creating_session';
    expect(pendingStateFor(task)).toEqual({ state, sandboxId, step });
  });

  it.each(tasks)('newTab for task $name is a first attempt in $state', ({ task, state, sandboxId }) => {
    const fields = {
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      org: 'o',
      task: 't',
      title: '',
      agent: 'mock',
      model: 'm1',
      clientRequestId: null,
    };
    const step = state === 'pending_provision' ? 'queued' : 'creating_session';
    const tab = newTab(fields, task, now);
    expect(tab).toEqual({
      v: 1,
      ...fields,
      state,
      sessionId: null,
      sandboxId,
      unread: false,
      progress: step === 'queued' ? 'Queued' : 'Creating session',
      step,
      error: null,
      attempt: 1,
      createdAt: now,
      updatedAt: now,
      readyAt: null,
      closedAt: null,
    });
    expect(() => TabRecordSchema.parse(tab)).not.toThrow();
  });
});

describe('progress updates', () => {
  it.each(states)('withSessionProgress on a %s tab', (state) => {
    const tab = tabIn(state);
    const next = withSessionProgress(tab, '2 ahead', now);
    if (state === 'pending_session_create') {
      expect(next).toEqual({
        ...tab,
        step: 'creating_session',
        progress: 'Creating session (2 ahead)',
        updatedAt: now,
      });
    } else {
      expect(next).toBeNull();
    }
  });

  it('writes nothing when the text would not change', () => {
    expect(withSessionProgress(tabIn('pending_session_create'), undefined, now)).toBeNull();
    expect(withSessionProgress(tabIn('pending_session_create'), '3 ahead', now)?.progress).toBe(
      'Creating session (3 ahead)',
    );
  });
});
