import type { Msg } from '@nats-io/transport-node';
import { decode, type SessionJob, SessionJobSchema, TabState } from '@tabmesh/contracts';
import { TabFlow } from '@tabmesh/runtime';
import { type BusOnServer, startBusOnServer, tabRecord, uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionDestroys } from '../src/session-destroys.js';

describe('session destroys of closed tabs', () => {
  let running: BusOnServer;
  let destroys: SessionDestroys;

  beforeAll(async () => {
    running = await startBusOnServer();
    destroys = new SessionDestroys(TabFlow.onBus(running.bus));
  });
  afterAll(() => running.stop());

  /** Every session job published for the task from now on. */
  async function jobsOf(org: string, task: string): Promise<SessionJob[]> {
    const jobs: SessionJob[] = [];
    running.nc.subscribe(`session.${org}.${task}.>`, {
      callback: (_err, msg: Msg) => {
        jobs.push(decode(SessionJobSchema, msg.data, 'session job'));
      },
    });
    await running.nc.flush();
    return jobs;
  }

  const closedTab = (org: string, task: string, sessionId: string | null) =>
    tabRecord(org, task, { state: TabState.Closed, sessionId, sandboxId: 'sbx-1' });

  it('stores one destroy_many for the closes of a task in one turn, one destroy for a lone one, and skips tabs without a session', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const jobs = await jobsOf(org, task);
    const together = [closedTab(org, task, 'ses-1'), closedTab(org, task, 'ses-2'), closedTab(org, task, 'ses-3')];
    const other = closedTab(org, uniqueId('other'), 'ses-9');
    // All in one turn, one of them twice (a retried close).
    await Promise.all([
      ...together.map((t) => destroys.destroy(t, 'corr-1')),
      destroys.destroy(together[0]!, 'corr-2'),
      destroys.destroy(other, 'corr-3'),
    ]);
    const alone = closedTab(org, task, 'ses-4');
    await destroys.destroy(alone, 'corr-4');
    await destroys.destroy(closedTab(org, task, null), 'corr-5');
    await waitFor('both jobs seen', () => jobs.length >= 2);
    expect(jobs).toEqual([
      {
        v: 1,
        op: 'destroy_many',
        org,
        task,
        sessions: together.map((t) => ({ tab: t.id, sessionId: t.sessionId })),
      },
      { v: 1, op: 'destroy', org, task, tab: alone.id, sessionId: 'ses-4' },
    ]);
  });
});
