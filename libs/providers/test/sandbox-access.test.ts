import type { SandboxRef, SandboxView } from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { type SandboxCredentials, withSandboxCredentials } from '../src/sandbox-access.js';
import { SimProvider } from '../src/sim-provider.js';

/** A credential store that says how each lookup was asked for. */
function recordingCredentials(): SandboxCredentials & { asked: Array<{ id: string; fresh: boolean }> } {
  const asked: Array<{ id: string; fresh: boolean }> = [];
  return {
    asked,
    put: async () => undefined,
    remove: async () => undefined,
    reach: async (view: SandboxView, opts?: { fresh?: boolean }): Promise<SandboxRef> => {
      asked.push({ id: view.id, fresh: opts?.fresh === true });
      return { ...view, endpoint: `sim://${view.id}`, token: null };
    },
  };
}

describe('sandbox access', () => {
  it('asks for a fresh credential only to learn whether a sandbox is still there', async () => {
    const credentials = recordingCredentials();
    const access = withSandboxCredentials(new SimProvider({ provisionMs: 0, sessionMs: 0, failRate: 0 }), credentials);
    const sandbox = await access.provision({
      org: 'o',
      task: 't',
      generation: 1,
      onStep: async () => undefined,
      signal: new AbortController().signal,
    });
    await access.createSession(sandbox, {
      org: 'o',
      task: 't',
      tab: 'x',
      attempt: 1,
      agent: 'mock',
      model: null,
      signal: new AbortController().signal,
    });
    await access.destroySession(sandbox, access.sessionIdOf('x', 1));
    expect(await access.sandboxAlive(sandbox)).toBe(true);
    expect(credentials.asked).toEqual([
      { id: sandbox.id, fresh: false },
      { id: sandbox.id, fresh: false },
      { id: sandbox.id, fresh: true },
    ]);
  });
});
