import { createHash } from 'node:crypto';

/**
 * Sandbox id of a task generation in the sim provider: the same generation names the same sandbox.
 * Readable while it fits the 64-character sandbox id alphabet; longer org/task pairs are hashed.
 */
export const simSandboxId = (org: string, task: string, generation: number): string => {
  const readable = `sim-${org}-${task}-g${generation}`;
  if (readable.length <= 64) return readable;
  return `sim-${createHash('sha256').update(`${org}/${task}`).digest('hex').slice(0, 32)}-g${generation}`;
};

/** Session id of a tab attempt: deterministic, as the real provider's `sessionIdFor`. */
export const simSessionId = (tab: string, attempt: number): string => `sim-session-${tab}-a${attempt}`;
