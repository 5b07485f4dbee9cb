/** Sandbox id of a task generation in the sim provider: the same generation names the same sandbox. */
export const simSandboxId = (org: string, task: string, generation: number): string => `sim-${org}-${task}-g${generation}`;

/** Session id of a tab attempt: deterministic, as the real provider's `sessionIdFor`. */
export const simSessionId = (tab: string, attempt: number): string => `sim-session-${tab}-a${attempt}`;
