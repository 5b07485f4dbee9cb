import { hasErrorCode, withTimeout } from '@tabmesh/runtime';
import {
  type AgentInfo,
  type SandboxAgent,
  SandboxAgentError,
  type SessionPersistDriver,
  UnsupportedSessionCategoryError,
  UnsupportedSessionValueError,
} from 'sandbox-agent';
import { ErrorCode, ProviderError } from '../errors.js';
import { type AgentTarget, connectAgent, isConnectionRefused, pinnedAcpFetch, toProviderError } from './connection.js';

/**
 * The session id of a tab attempt. Deterministic on purpose: a redelivered job, or a close racing a
 * create in another process, names the same session and finds it in sandbox-agent.
 * It is also the id of the ACP server that hosts the session, so sandbox-agent itself lists it.
 */
export const sessionIdFor = (tab: string, attempt: number): string => `tm-${tab}-a${attempt}`;

export type SessionOpsOptions = {
  persist?: SessionPersistDriver;
  /** Upper bound for one session creation (agent start + session/new). */
  sessionTimeoutMs: number;
};

/** Agent sessions in any sandbox-agent server, reached from a SandboxRef's endpoint and token. */
export class AgentSessions {
  constructor(private readonly opts: SessionOpsOptions) {}

  /** Ids of the sessions (ACP servers) the sandbox-agent server currently runs. */
  async list(target: AgentTarget): Promise<string[]> {
    const client = connectAgent(target);
    try {
      const { servers } = await client.listAcpServers();
      return servers.map((s) => s.serverId);
    } catch (err) {
      throw toProviderError(err, 'list sessions');
    } finally {
      await client.dispose();
    }
  }

  async exists(target: AgentTarget, sessionId: string): Promise<boolean> {
    return (await this.list(target)).includes(sessionId);
  }

  /** Checks agent and model before any agent process starts, so refusals are typed and cheap. */
  private async preflight(client: SandboxAgent, agent: string, model: string | null): Promise<void> {
    let info: AgentInfo;
    try {
      info = await client.getAgent(agent, { config: model !== null });
    } catch (err) {
      if (err instanceof SandboxAgentError && err.status === 400) {
        throw new ProviderError(ErrorCode.SessionRefused, `agent "${agent}" is not supported by sandbox-agent`, {
          cause: err,
        });
      }
      if (err instanceof SandboxAgentError && err.status === 404) {
        throw new ProviderError(ErrorCode.AgentNotInstalled, `agent "${agent}" is unknown to this sandbox`, {
          cause: err,
        });
      }
      throw toProviderError(err, `agent "${agent}"`);
    }
    // Not installed means sandbox-agent would download it now; tabmesh installs agents at set-up instead.
    if (!info.installed) {
      throw new ProviderError(
        ErrorCode.AgentNotInstalled,
        `agent "${agent}" is not installed in the sandbox (run sandbox-agent install-agent ${agent})`,
      );
    }
    if (model !== null) {
      const option = info.configOptions?.find((o) => (o as { category?: string }).category === 'model') as
        | { options?: { value?: string }[] }
        | undefined;
      const allowed = option?.options?.map((o) => o.value).filter((v): v is string => typeof v === 'string') ?? [];
      if (allowed.length > 0 && !allowed.includes(model)) {
        throw new ProviderError(
          ErrorCode.SessionRefused,
          `agent "${agent}" has no model "${model}" (has ${allowed.join(', ')})`,
        );
      }
    }
  }

  /**
   * Creates the tab's session, or returns it when sandbox-agent already runs it (idempotent per tab
   * attempt). The session outlives this call and this process; destroy() ends it.
   */
  async create(
    target: AgentTarget,
    req: { tab: string; attempt: number; agent: string; model: string | null; signal?: AbortSignal },
  ): Promise<{ sessionId: string }> {
    const sessionId = sessionIdFor(req.tab, req.attempt);
    const pinned = pinnedAcpFetch(target, sessionId);
    const client = connectAgent(target, { persist: this.opts.persist, fetch: pinned.fetch });
    let created = false;
    try {
      const work = (async () => {
        await this.preflight(client, req.agent, req.model);
        const { servers } = await client.listAcpServers();
        if (servers.some((s) => s.serverId === sessionId)) return;
        created = true;
        const session = await client.createSession({ id: sessionId, agent: req.agent });
        // The built-in mock agent echoes ACP calls and returns no agent session id; any further session
        // call through the SDK would then loop on resume. The model was validated in preflight.
        if (req.model !== null && session.agentSessionId) await session.setModel(req.model);
      })();
      await withTimeout(
        work,
        this.opts.sessionTimeoutMs,
        () =>
          new ProviderError(
            ErrorCode.SessionFailed,
            `session ${sessionId} not created within ${this.opts.sessionTimeoutMs} ms`,
            { retryable: true },
          ),
        req.signal,
      );
      pinned.detach();
      return { sessionId };
    } catch (err) {
      // Leave nothing half-made behind: a failed or timed-out create deletes its ACP server.
      if (created) await this.deleteServer(target, sessionId).catch(() => undefined);
      if (err instanceof UnsupportedSessionCategoryError || err instanceof UnsupportedSessionValueError) {
        throw new ProviderError(ErrorCode.SessionRefused, err.message, { cause: err });
      }
      if (err instanceof ProviderError) throw err;
      if (req.signal?.aborted) throw err;
      throw toProviderError(err, `create session ${sessionId}`);
    } finally {
      await client.dispose().catch(() => undefined);
    }
  }

  /** Ends the session in sandbox-agent and marks its record destroyed. A missing sandbox counts as done. */
  async destroy(target: AgentTarget, sessionId: string): Promise<void> {
    const persist = this.opts.persist;
    if (persist) {
      const record = await persist.getSession(sessionId);
      if (record && record.destroyedAt === undefined)
        await persist.updateSession({ ...record, destroyedAt: Date.now() });
    }
    await this.deleteServer(target, sessionId);
  }

  /**
   * DELETE /v1/acp/{id}. sandbox-agent 0.4.2 drops the server from its list at once but may hold the
   * response open for many seconds, so the answer is not awaited beyond a short bound; the list is.
   */
  private async deleteServer(target: AgentTarget, serverId: string): Promise<void> {
    const fetcher = target.fetch ?? globalThis.fetch.bind(globalThis);
    const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
    try {
      const res = await fetcher(`${target.baseUrl.replace(/\/$/, '')}/v1/acp/${encodeURIComponent(serverId)}`, {
        method: 'DELETE',
        headers,
        signal: AbortSignal.timeout(500),
      });
      if (!res.ok && res.status !== 404)
        throw new ProviderError(ErrorCode.SessionFailed, `destroy session ${serverId}: HTTP ${res.status}`, {
          retryable: true,
        });
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      if (isConnectionRefused(err)) return;
      if (!(err instanceof DOMException && err.name === 'TimeoutError'))
        throw toProviderError(err, `destroy session ${serverId}`);
    }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      let ids: string[];
      try {
        ids = await this.list(target);
      } catch (err) {
        if (hasErrorCode(err, ErrorCode.SandboxGone)) return;
        throw err;
      }
      if (!ids.includes(serverId)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new ProviderError(
      ErrorCode.SessionFailed,
      `session ${serverId} is still listed by sandbox-agent after DELETE`,
      { retryable: true },
    );
  }
}
