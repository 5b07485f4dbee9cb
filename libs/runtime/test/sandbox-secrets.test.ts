import { type BusOnServer, startBusOnServer } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, SandboxSecrets } from '../src/index.js';

const ref = { provider: 'sim', id: 'sbx-1', endpoint: 'http://127.0.0.1:4000', token: 'tok-1' };
const view = { provider: 'sim', id: 'sbx-1' };
const gone = { ...view, endpoint: null, token: null };

describe('sandbox secrets', () => {
  let running: BusOnServer;
  let bus: Bus;
  beforeAll(async () => {
    running = await startBusOnServer();
    bus = running.bus;
  });
  afterAll(() => running.stop());

  it('serves a credential read lately without a read, and reads the store when asked for a fresh one', async () => {
    await new SandboxSecrets(bus.sandboxSecrets, null).put(ref);
    const worker = new SandboxSecrets(bus.sandboxSecrets, { maxEntries: 10, ttlMs: 60_000 });
    expect(await worker.reach(view)).toEqual(ref);
    // Gone from the store (another process destroyed the sandbox): the recent copy still answers,
    // a fresh read does not, and after it the copy is dropped.
    await bus.sandboxSecrets.purge(ref.id);
    expect(await worker.reach(view)).toEqual(ref);
    expect(await worker.reach(view, { fresh: true })).toEqual(gone);
    expect(await worker.reach(view)).toEqual(gone);
  });

  it('reads again once a credential is older than the cache allows, and never for another provider', async () => {
    const writer = new SandboxSecrets(bus.sandboxSecrets, { maxEntries: 10, ttlMs: 30 });
    await writer.put({ ...ref, id: 'sbx-2' });
    await bus.sandboxSecrets.purge('sbx-2');
    expect(await writer.reach({ ...view, id: 'sbx-2' })).toEqual({ ...ref, id: 'sbx-2' });
    expect(await writer.reach({ provider: 'local', id: 'sbx-2' })).toEqual({
      provider: 'local',
      id: 'sbx-2',
      endpoint: null,
      token: null,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await writer.reach({ ...view, id: 'sbx-2' })).toEqual({ ...gone, id: 'sbx-2' });
  });

  it('makes one read for lookups that arrive while it is under way', async () => {
    await new SandboxSecrets(bus.sandboxSecrets, null).put({ ...ref, id: 'sbx-3' });
    const secrets = new SandboxSecrets(bus.sandboxSecrets, { maxEntries: 10, ttlMs: 60_000 });
    const reads: string[] = [];
    const get = bus.sandboxSecrets.get.bind(bus.sandboxSecrets);
    bus.sandboxSecrets.get = (key, opts) => {
      reads.push(key);
      return get(key, opts);
    };
    try {
      const refs = await Promise.all(Array.from({ length: 10 }, () => secrets.reach({ ...view, id: 'sbx-3' })));
      expect(refs.every((r) => r.token === ref.token)).toBe(true);
      expect(reads).toEqual(['sbx-3']);
    } finally {
      bus.sandboxSecrets.get = get;
    }
  });

  it('forgets a removed credential at once and keeps at most maxEntries', async () => {
    const secrets = new SandboxSecrets(bus.sandboxSecrets, { maxEntries: 2, ttlMs: 60_000 });
    for (const id of ['a-1', 'a-2', 'a-3']) await secrets.put({ ...ref, id });
    for (const id of ['a-1', 'a-2', 'a-3']) await bus.sandboxSecrets.purge(id);
    // a-1 was pushed out by a-3; a-2 and a-3 are still held.
    expect((await secrets.reach({ ...view, id: 'a-1' })).endpoint).toBeNull();
    expect((await secrets.reach({ ...view, id: 'a-3' })).endpoint).toBe(ref.endpoint);
    await secrets.remove('a-3');
    expect((await secrets.reach({ ...view, id: 'a-3' })).endpoint).toBeNull();
  });
});
