import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from './errors.js';
import { TaskProvisioning, type TaskRecord, TaskRecordSchema } from './task.js';
import {
  canTaskTransition,
  newTask,
  toIdleReaped,
  toProvisioned,
  toProvisioning,
  toReprovisioning,
  toTaskError,
  toUnprovisioned,
  withTaskProvisionStep,
} from './task-machine.js';

const states = Object.values(TaskProvisioning);
const now = '2030-01-02T03:04:05.000Z';
const earlier = '2030-01-01T00:00:00.000Z';
const failure: ErrorInfo = { code: 'provision_failed', message: 'boom', retryable: true };
const oldSandbox = { provider: 'sim', id: 'sbx-0', endpoint: 'http://sbx-0', token: 'secret' };
/** What every transition that drops the sandbox writes, at `now`. */
const withoutSandbox = { sandbox: null, error: null, updatedAt: now, provisionedAt: null };
const newSandbox = { provider: 'sim', id: 'sbx-1', endpoint: 'http://sbx-1', token: null };

// Written out in full rather than derived, so a change to the table has to change this test.
//                                  to: unprovisioned  provisioning  provisioned  error
const matrix: Record<TaskProvisioning, readonly boolean[]> = {
  unprovisioned: /*                 */ [false, true, false, false],
  provisioning: /*                  */ [true, false, true, true],
  provisioned: /*                   */ [true, true, false, false],
  error: /*                         */ [true, true, false, false],
};

/** A plausible record in each state, with the fields that state carries. */
function taskIn(state: TaskProvisioning): TaskRecord {
  return {
    v: 1,
    org: 'o',
    task: 't',
    state,
    generation: 3,
    step:
      state === 'provisioning'
        ? 'creating_sandbox'
        : state === 'provisioned'
          ? 'ready'
          : state === 'error'
            ? 'error'
            : null,
    progress: state === 'provisioning' ? 'Creating sandbox' : null,
    sandbox: state === 'provisioned' ? oldSandbox : null,
    error: state === 'error' ? failure : null,
    updatedAt: earlier,
    provisionedAt: state === 'provisioned' ? earlier : null,
  };
}

/** Every named transition, the only state it leads to, and the states it accepts. */
const transitions: {
  name: string;
  run: (task: TaskRecord) => TaskRecord | null;
  to: TaskProvisioning;
  from: TaskProvisioning[];
}[] = [
  { name: 'toProvisioning', run: (t) => toProvisioning(t, now), to: 'provisioning', from: ['unprovisioned', 'error'] },
  {
    name: 'toReprovisioning',
    run: (t) => toReprovisioning(t, 'sbx-0', now),
    to: 'provisioning',
    from: ['provisioned'],
  },
  { name: 'toProvisioned', run: (t) => toProvisioned(t, newSandbox, now), to: 'provisioned', from: ['provisioning'] },
  { name: 'toTaskError', run: (t) => toTaskError(t, failure, now), to: 'error', from: ['provisioning'] },
  { name: 'toIdleReaped', run: (t) => toIdleReaped(t, 'sbx-0', now), to: 'unprovisioned', from: ['provisioned'] },
  {
    name: 'toUnprovisioned',
    run: (t) => toUnprovisioned(t, now),
    to: 'unprovisioned',
    from: ['provisioning', 'provisioned', 'error'],
  },
];

describe('task transition table', () => {
  const pairs = states.flatMap((from) => states.map((to, i) => ({ from, to, allowed: matrix[from][i] })));

  it.each(pairs)('$from -> $to allowed: $allowed', ({ from, to, allowed }) => {
    expect(canTaskTransition(from, to)).toBe(allowed);
  });

  it('reaches every allowed pair through a named transition, and no refused one', () => {
    const reached = new Set<string>();
    for (const t of transitions) {
      for (const from of states) {
        const next = t.run(taskIn(from));
        if (next) reached.add(`${from}->${next.state}`);
      }
    }
    const allowedPairs = pairs.filter((p) => p.allowed).map((p) => `${p.from}->${p.to}`);
    expect([...reached].sort()).toEqual(allowedPairs.sort());
  });
});

describe('named task transitions', () => {
  const cases = transitions.flatMap((t) => states.map((from) => ({ ...t, from, accepts: t.from.includes(from) })));

  it.each(cases)('$name from $from: accepted $accepts', ({ run, from, to, accepts }) => {
    const before = taskIn(from);
    const next = run(before);
    if (!accepts) {
      expect(next).toBeNull();
      return;
    }
    expect(next?.state).toBe(to);
    expect(canTaskTransition(from, to)).toBe(true);
    expect(() => TaskRecordSchema.parse(next)).not.toThrow();
    expect(next?.updatedAt).toBe(now);
    expect(before).toEqual(taskIn(from));
  });

  it('newTask is unprovisioned at generation 0 with nothing recorded', () => {
    expect(newTask('o', 't', now)).toEqual({
      v: 1,
      org: 'o',
      task: 't',
      state: 'unprovisioned',
      generation: 0,
      step: null,
      progress: null,
      ...withoutSandbox,
    });
  });

  it.each(['unprovisioned', 'error'] as const)(
    'toProvisioning from %s starts the next generation at queued',
    (from) => {
      const task = taskIn(from);
      expect(toProvisioning(task, now)).toEqual({
        ...task,
        state: 'provisioning',
        generation: 4,
        step: 'queued',
        progress: 'Queued',
        ...withoutSandbox,
      });
    },
  );

  it('toProvisioning of a task never seen starts generation 1', () => {
    expect(toProvisioning(newTask('o', 't', earlier), now)?.generation).toBe(1);
  });

  it('toReprovisioning replaces only the sandbox that was lost', () => {
    const task = taskIn('provisioned');
    expect(toReprovisioning(task, 'sbx-0', now)).toEqual({
      ...task,
      state: 'provisioning',
      generation: 4,
      step: 'queued',
      progress: 'Queued (sandbox lost, provisioning a new one)',
      ...withoutSandbox,
    });
    // Someone already replaced it: the new sandbox is not the lost one.
    expect(toReprovisioning(task, 'sbx-other', now)).toBeNull();
  });

  it('toIdleReaped gives up only the sandbox the reaper saw, and bumps the generation', () => {
    const task = taskIn('provisioned');
    expect(toIdleReaped(task, 'sbx-0', now)).toEqual(toUnprovisioned(task, now));
    expect(toIdleReaped(task, 'sbx-other', now)).toBeNull();
  });

  it('toProvisioned records which sandbox and when, never its endpoint or token', () => {
    const task = taskIn('provisioning');
    expect(toProvisioned(task, newSandbox, now)).toEqual({
      ...task,
      state: 'provisioned',
      step: 'ready',
      progress: null,
      sandbox: { provider: 'sim', id: 'sbx-1' },
      error: null,
      updatedAt: now,
      provisionedAt: now,
    });
  });

  it('toTaskError records the error and keeps the generation', () => {
    const task = taskIn('provisioning');
    expect(toTaskError(task, failure, now)).toEqual({
      ...task,
      state: 'error',
      step: 'error',
      progress: null,
      error: failure,
      updatedAt: now,
    });
  });

  it.each(['provisioning', 'provisioned', 'error'] as const)(
    'toUnprovisioned from %s forgets everything and bumps the generation',
    (from) => {
      const task = taskIn(from);
      expect(toUnprovisioned(task, now)).toEqual({
        ...task,
        state: 'unprovisioned',
        generation: 4,
        step: null,
        progress: null,
        ...withoutSandbox,
      });
    },
  );
});

describe('task progress updates', () => {
  it.each(states)('withTaskProvisionStep on a %s task', (state) => {
    const task = taskIn(state);
    const next = withTaskProvisionStep(task, 'starting_agent', 'pulling image', now);
    if (state === 'provisioning') {
      expect(next).toEqual({
        ...task,
        step: 'starting_agent',
        progress: 'Starting agent (pulling image)',
        updatedAt: now,
      });
    } else {
      expect(next).toBeNull();
    }
  });

  it('writes nothing when step and text would not change', () => {
    expect(withTaskProvisionStep(taskIn('provisioning'), 'creating_sandbox', undefined, now)).toBeNull();
  });
});
