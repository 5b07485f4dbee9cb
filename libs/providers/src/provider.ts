import type { SandboxRef, Step } from '@tabmesh/contracts';

export type ProvisionRequest = {
  org: string;
  task: string;
  /** Provisioning generation: a provider reuses what it made for the same task and generation. */
  generation: number;
  signal: AbortSignal;
  /** Reports progress in the shared step vocabulary. */
  onStep: (step: Step) => Promise<void> | void;
};

export type SessionRequest = {
  org: string;
  task: string;
  tab: string;
  attempt: number;
  agent: string;
  model: string | null;
  signal: AbortSignal;
};

/**
 * What tabmesh needs from a sandbox backend. Implementations throw TabmeshError with one of the
 * provider error codes so failures reach users as documented states.
 */
export interface SandboxProvider {
  readonly name: string;
  /** Creates (or finds, for the same task and generation) a sandbox and returns how to reach it. */
  provision(req: ProvisionRequest): Promise<SandboxRef>;
  destroySandbox(sandbox: SandboxRef): Promise<void>;
  /**
   * Creates the tab attempt's session. The SandboxRef is all it needs, so any process can call it;
   * the same tab and attempt again returns the same session while it lives.
   */
  createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }>;
  /**
   * The id a tab attempt's session has, or would have, in this provider: ids are deterministic, so a
   * process that never saw the session can still name it (to destroy it after a crash).
   */
  sessionIdOf(tab: string, attempt: number): string;
  /** Ends the session; idempotent, and a sandbox that is gone counts as done. */
  destroySession(sandbox: SandboxRef, sessionId: string): Promise<void>;
  /** Whether the sandbox runs and answers, asked of the backend itself. */
  sandboxAlive(sandbox: SandboxRef): Promise<boolean>;
  /** Whether the backend (sandbox-agent itself, not tabmesh's records) runs this session. */
  sessionExists(sandbox: SandboxRef, sessionId: string): Promise<boolean>;
  /** Releases clients and connections held by this process; sandboxes live on. */
  close(): Promise<void>;
}
