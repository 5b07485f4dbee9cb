import {
  decode,
  provisionSubject,
  Streams,
  Subjects,
  sessionSubject,
  TabReplySchema,
  TabState,
} from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { uniqueId, waitFor } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Invariant 7: bad input gets a clear error and stores nothing; poison jobs are terminated.
describe('invariant 7: bad input on the bus', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    mesh = await setup();
  });
  afterAll(() => mesh.stop());

  const raw = async (subject: string, body: string) =>
    decode(
      TabReplySchema,
      (await mesh.nc.request(subject, new TextEncoder().encode(body), { timeout: 5000 })).data,
      'reply',
    );

  it.each([
    ['not JSON', '{nope', /not valid JSON/],
    ['a bad org id', JSON.stringify({ v: 1, org: 'a.b', task: 't' }), /org/],
    ['a task id too long', JSON.stringify({ v: 1, org: 'o', task: 'x'.repeat(65) }), /task/],
    ['a wrong type', JSON.stringify({ v: 1, org: 'o', task: 't', title: 42 }), /title/],
    ['an unknown field', JSON.stringify({ v: 1, org: 'o', task: 't', colour: 'red' }), /colour|unrecognized/i],
    ['a missing version', JSON.stringify({ org: 'o', task: 't' }), /v/],
  ])('rejects a create with %s and stores nothing', async (_name, body, reason) => {
    const before = (await mesh.bus.tabs.status()).values;
    const reply = await raw(Subjects.tabCreate, body);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('invalid_request');
    expect(reply.error.message).toMatch(reason);
    expect((await mesh.bus.tabs.status()).values).toBe(before);
    expect((await mesh.bus.tasks.status()).values).toBe((await mesh.bus.tasks.status()).values);
  });

  it('rejects a close with a malformed tab id', async () => {
    const reply = await raw(Subjects.tabClose, JSON.stringify({ v: 1, org: 'o', task: 't', tab: 'nope' }));
    expect(!reply.ok && reply.error.code).toBe('invalid_request');
  });

  it('terminates garbage jobs on both streams and keeps consuming', async () => {
    const poisonBefore =
      mesh.handles.provisioner[0]!.worker.stats.poison + mesh.handles.sessionCreator[0]!.worker.stats.poison;
    await mesh.bus.js.publish(provisionSubject('o', 't'), new TextEncoder().encode('garbage'));
    await mesh.bus.js.publish(
      provisionSubject('o', 't'),
      new TextEncoder().encode(JSON.stringify({ v: 1, op: 'provision', org: 'o' })),
    );
    await mesh.bus.js.publish(sessionSubject('o', 't', 'x'), new TextEncoder().encode(JSON.stringify({ v: 2 })));
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tab = await mesh.create(org, task);
    await mesh.waitForState(org, task, tab.id, [TabState.Ready]);
    await waitFor(
      'poison jobs counted',
      () =>
        mesh.handles.provisioner[0]!.worker.stats.poison +
          mesh.handles.sessionCreator[0]!.worker.stats.poison -
          poisonBefore ===
        3,
    );
    for (const s of [Streams.provision, Streams.sessions]) {
      // Terminated and acked jobs leave the work-queue stream: nothing left pending or unacked.
      await waitFor(`${s.name} drained`, async () => {
        const info = await mesh.bus.jsm.consumers.info(s.name, s.consumer);
        return info.num_ack_pending === 0 && info.num_pending === 0;
      });
      expect((await mesh.bus.jsm.streams.info(s.name)).state.messages).toBe(0);
    }
  });
});
