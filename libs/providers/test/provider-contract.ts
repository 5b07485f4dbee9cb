import { type SandboxRef, Step } from '@tabmesh/contracts';
import { uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxProvider } from '../src/index.js';

export type ContractHarness = {
  provider: SandboxProvider;
  /** Sandboxes of the task the backend really runs (processes, ledger entries). */
  liveSandboxes: (org: string, task: string) => number;
  agent: string;
};

/**
 * What every provider promises, run against each one (like hono's routers share common.case.test.ts).
 * Every sandbox the suite provisions is destroyed in afterAll.
 */
export function providerContract(
  name: string,
  setup: () => Promise<ContractHarness>,
  teardown: () => Promise<void> = async () => {},
): void {
  describe(`${name} provider contract`, () => {
    let h: ContractHarness;
    const made: SandboxRef[] = [];
    const org = 'contract';
    const signal = new AbortController().signal;
    const provision = async (task: string, generation = 1, steps: string[] = []) => {
      const ref = await h.provider.provision({ org, task, generation, signal, onStep: (s) => void steps.push(s) });
      made.push(ref);
      return ref;
    };

    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      for (const ref of made) await h.provider.destroySandbox(ref).catch(() => undefined);
      await h.provider.close();
      await teardown();
    });

    it('provisions a reachable sandbox, reporting creating_sandbox then starting_agent', async () => {
      const task = uniqueId('t');
      const steps: string[] = [];
      const ref = await provision(task, 1, steps);
      expect(ref.provider).toBe(h.provider.name);
      expect(await h.provider.sandboxAlive(ref)).toBe(true);
      expect(steps).toEqual([Step.CreatingSandbox, Step.StartingAgent]);
      expect(h.liveSandboxes(org, task)).toBe(1);
    });

    it('gives the same sandbox for the same task and generation, sequentially and concurrently', async () => {
      const task = uniqueId('t');
      const [a, b] = await Promise.all([provision(task), provision(task)]);
      const c = await provision(task);
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      expect(h.liveSandboxes(org, task)).toBe(1);
    });

    it('creates a session the backend itself lists, and destroys it', async () => {
      const task = uniqueId('t');
      const ref = await provision(task);
      const tab = uniqueId('tab');
      const req = { org, task, tab, attempt: 1, agent: h.agent, model: null, signal };
      const { sessionId } = await h.provider.createSession(ref, req);
      expect(await h.provider.sessionExists(ref, sessionId)).toBe(true);
      await h.provider.destroySession(ref, sessionId);
      expect(await h.provider.sessionExists(ref, sessionId)).toBe(false);
      await h.provider.destroySession(ref, sessionId); // idempotent
    });

    it('destroys a sandbox: the backend no longer runs it', async () => {
      const task = uniqueId('t');
      const ref = await provision(task);
      await h.provider.destroySandbox(ref);
      expect(await h.provider.sandboxAlive(ref)).toBe(false);
      expect(h.liveSandboxes(org, task)).toBe(0);
    });
  });
}
