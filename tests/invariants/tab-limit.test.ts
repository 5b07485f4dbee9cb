import {
  Buckets,
  decode,
  ErrorCode,
  encode,
  ProblemSchema,
  Subjects,
  TabCreateRequestSchema,
  type TabReply,
  TabReplySchema,
  TabSlotsSchema,
  TabState,
  taskKey,
} from '@tabmesh/contracts';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { TypedBucket } from '@tabmesh/runtime';
import { testAuthHeader, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const Limit = 5;

/** TABMESH_MAX_TABS_PER_TASK: a create past it is refused with nothing stored; a close makes room. */
describe('open tabs per task are bounded', () => {
  let mesh: TabmeshMesh;
  beforeAll(async () => {
    // Two registries in the queue group: the bound must hold across processes, not per process.
    mesh = await setup({ services: { tabRegistry: 2, gateway: 1 }, env: { TABMESH_MAX_TABS_PER_TASK: String(Limit) } });
  });
  afterAll(async () => {
    await mesh.stop();
  });

  const createReply = async (org: string, task: string, extra: Record<string, unknown> = {}): Promise<TabReply> => {
    const payload = encode(TabCreateRequestSchema, { v: 1, org, task, ...extra }, 'create');
    return decode(
      TabReplySchema,
      (await mesh.nc.request(Subjects.tabCreate, payload, { timeout: 10_000 })).data,
      'reply',
    );
  };
  const slots = () => new TypedBucket(mesh.bus.tabSlots, TabSlotsSchema, 'tab slots');
  const subjectsOf = async (stream: string, filter: string) =>
    Object.keys((await mesh.bus.jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {});
  const openTabs = async (org: string, task: string) =>
    (await mesh.tabs.listTask(org, task)).filter((t) => t.value.state !== TabState.Closed);

  it(`lets exactly ${Limit} of 20 concurrent creates on one task through, and stores nothing for the others`, async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createReply(org, task, { title: `t${i}`, clientRequestId: `req-${i}` })),
    );
    const ok = replies.filter((r) => r.ok);
    const refused = replies.flatMap((r) => (r.ok ? [] : [r.error]));
    expect(ok).toHaveLength(Limit);
    expect(refused).toHaveLength(20 - Limit);
    for (const e of refused) {
      expect(e.code).toBe(ErrorCode.LimitReached);
      expect(e.message).toMatch(/5 open tabs/);
    }
    expect(await openTabs(org, task)).toHaveLength(Limit);
    // Nothing of a refused create is left: no tab key, no clientRequestId claim, no extra slot.
    expect(await subjectsOf('KV_tabs', `$KV.tabs.${org}.${task}.*`)).toHaveLength(Limit);
    expect(await subjectsOf('KV_tab-requests', `$KV.tab-requests.${org}.${task}.*`)).toHaveLength(Limit);
    const held = (await slots().get(taskKey(org, task)))!.value.tabs;
    expect(held.sort()).toEqual(ok.map((r) => (r.ok ? r.tab.id : '')).sort());
    // A repeat of an accepted create is still answered with its tab, at the bound.
    const first = ok[0]!;
    if (!first.ok) throw new Error('unreachable');
    const repeat = await createReply(org, task, { clientRequestId: first.tab.clientRequestId });
    expect(repeat).toMatchObject({ ok: true, created: false, tab: { id: first.tab.id } });
  });

  it('makes room when a tab is closed, and refuses again once full', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const tabs = [];
    for (let i = 0; i < Limit; i++) tabs.push(await mesh.create(org, task));
    expect((await createReply(org, task)).ok).toBe(false);
    const closed = await mesh.tabOp(Subjects.tabClose, org, task, tabs[0]!.id);
    expect(closed.ok).toBe(true);
    expect((await slots().get(taskKey(org, task)))!.value.tabs).not.toContain(tabs[0]!.id);
    const next = await createReply(org, task);
    expect(next.ok).toBe(true);
    const past = await createReply(org, task);
    expect(past).toMatchObject({ ok: false, error: { code: ErrorCode.LimitReached } });
    // Other tasks are not affected by this one being full.
    expect((await createReply(org, uniqueId('task'))).ok).toBe(true);
  });

  it('frees slots that hold no open tab (a create or close that died half-way) when the task is full', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const live = [];
    for (let i = 0; i < Limit - 2; i++) live.push(await mesh.create(org, task));
    const closedTab = await mesh.create(org, task);
    await mesh.tabOp(Subjects.tabClose, org, task, closedTab.id);
    // What a crash leaves: a slot for a tab never written (minted long ago), and a closed tab's slot.
    const orphan = oldUlid(Date.now() - 120_000);
    const cur = (await slots().get(taskKey(org, task)))!;
    await slots().update(taskKey(org, task), { v: 1, tabs: [...cur.value.tabs, orphan, closedTab.id] }, cur.revision);
    const replies = await Promise.all([createReply(org, task), createReply(org, task), createReply(org, task)]);
    expect(replies.filter((r) => r.ok)).toHaveLength(2);
    const held = (await slots().get(taskKey(org, task)))!.value.tabs;
    expect(held).toHaveLength(Limit);
    expect(held).not.toContain(orphan);
    expect(held).not.toContain(closedTab.id);
    expect(await openTabs(org, task)).toHaveLength(Limit);
  });

  it('answers HTTP with 429 problem+json limit_reached past the bound', async () => {
    const org = uniqueId('org');
    const task = uniqueId('task');
    const post = () =>
      fetch(`${mesh.gatewayUrls().http}/v1/orgs/${org}/tasks/${task}/tabs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...testAuthHeader() },
        body: JSON.stringify({ title: 'x', clientRequestId: uniqueId('click') }),
      });
    for (let i = 0; i < Limit; i++) expect((await post()).status).toBe(201);
    const res = await post();
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    // Waiting does not help here (a close does), so no Retry-After is promised.
    expect(res.headers.get('retry-after')).toBeNull();
    const problem = ProblemSchema.parse(await res.json());
    expect(problem).toMatchObject({ status: 429, code: 'limit_reached' });
    expect(await subjectsOf('KV_tab-requests', `$KV.${Buckets.tabRequests}.${org}.${task}.*`)).toHaveLength(Limit);
  });
});

/** A ULID-shaped id minted at `ms`. */
function oldUlid(ms: number): string {
  const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let time = '';
  for (let i = 0, n = ms; i < 10; i++, n = Math.floor(n / 32)) time = crockford[n % 32] + time;
  return `${time}${'0'.repeat(15)}1`;
}
