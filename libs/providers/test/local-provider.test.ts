import { ErrorCode, type SandboxRef } from '@tabmesh/contracts';
import { freePort, uniqueId } from '@tabmesh/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError, type SessionRequest, sessionIdFor } from '../src/index.js';
import { localProvider, sessionRequest, tempStateDir } from './local-helpers.js';

const state = tempStateDir();
const provider = localProvider(state.dir);
const org = 'local';
const signal = new AbortController().signal;
let ref: SandboxRef;
const session = (over: Partial<SessionRequest> = {}) => sessionRequest(org, over);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return (err as ProviderError).code;
  }
  throw new Error('expected a ProviderError');
}

beforeAll(async () => {
  const started = Date.now();
  ref = await provider.provision({ org, task: uniqueId('t'), generation: 1, signal, onStep: () => {} });
  // A figure for the report: a local sandbox starts in a few hundred milliseconds.
  expect(Date.now() - started).toBeLessThan(10_000);
});
afterAll(async () => {
  await provider.destroySandbox(ref);
  state.cleanup();
});

describe('local provider', () => {
  it('survives the provider object that created it being closed', async () => {
    await provider.close();
    expect(await localProvider(state.dir).sandboxAlive(ref)).toBe(true);
  });

  it('creates the same session for the same tab attempt (one listed), a new one for the next attempt', async () => {
    const req = session();
    const a = await provider.createSession(ref, req);
    const b = await provider.createSession(ref, req);
    expect(b.sessionId).toBe(a.sessionId);
    expect(a.sessionId).toBe(sessionIdFor(req.tab, 1));
    const c = await provider.createSession(ref, { ...req, attempt: 2 });
    expect(c.sessionId).not.toBe(a.sessionId);
    const listed = await provider.listSessions(ref);
    expect(listed.filter((id) => id === a.sessionId)).toHaveLength(1);
    expect(listed).toContain(c.sessionId);
    await provider.destroySession(ref, a.sessionId);
    await provider.destroySession(ref, c.sessionId);
  });

  it('creates a session with a model the agent offers', async () => {
    const { sessionId } = await provider.createSession(ref, session({ model: 'mock-fast' }));
    expect(await provider.sessionExists(ref, sessionId)).toBe(true);
    await provider.destroySession(ref, sessionId);
  });

  it('maps provider failures to the documented codes', async () => {
    const missing = localProvider(state.dir, { binaryPath: `${state.dir}/no-such-sandbox-agent` });
    expect(await codeOf(missing.provision({ org, task: uniqueId('t'), generation: 1, signal, onStep: () => {} }))).toBe(
      ErrorCode.BinaryMissing,
    );
    expect(await codeOf(provider.createSession(ref, session({ agent: 'no-such-agent' })))).toBe(
      ErrorCode.SessionRefused,
    );
    // claude is a real agent sandbox-agent knows, but set-up installs only mock; nothing is downloaded.
    expect(await codeOf(provider.createSession(ref, session({ agent: 'claude' })))).toBe(ErrorCode.AgentNotInstalled);
    expect(await codeOf(provider.createSession(ref, session({ model: 'no-such-model' })))).toBe(
      ErrorCode.SessionRefused,
    );
    const nowhere: SandboxRef = { ...ref, endpoint: `http://127.0.0.1:${await freePort()}` };
    expect(await codeOf(provider.createSession(nowhere, session()))).toBe(ErrorCode.SandboxGone);
    expect(await codeOf(provider.createSession({ ...ref, token: 'wrong' }, session()))).toBe(ErrorCode.SandboxGone);
    // None of those left a session behind.
    expect(await provider.listSessions(ref)).toEqual([]);
  });

  it('times out a sandbox that does not become healthy in time, leaving no process', async () => {
    const slow = localProvider(state.dir, { startTimeoutMs: 1 });
    const task = uniqueId('t');
    expect(await codeOf(slow.provision({ org, task, generation: 1, signal, onStep: () => {} }))).toBe(
      ErrorCode.SandboxStartTimeout,
    );
    expect(slow.liveSandboxPids(org, task)).toEqual([]);
  });

  it('destroying a session of a sandbox that is gone succeeds', async () => {
    const nowhere: SandboxRef = { ...ref, endpoint: `http://127.0.0.1:${await freePort()}` };
    await expect(provider.destroySession(nowhere, 'tm-gone-a1')).resolves.toBeUndefined();
  });
});
