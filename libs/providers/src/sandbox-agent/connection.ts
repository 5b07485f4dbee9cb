import { SandboxAgent, SandboxAgentError, type SessionPersistDriver } from 'sandbox-agent';
import { ErrorCode, ProviderError } from '../errors.js';

/** How to reach one sandbox-agent server: everything comes from the SandboxRef, so any process can. */
export type AgentTarget = {
  baseUrl: string;
  token: string | null;
  /** For providers that route requests themselves instead of exposing a URL. */
  fetch?: typeof fetch;
};

const AcpPath = /^(\/v1\/acp)\/[^/?]+/;

/**
 * A fetch for the SDK that pins every ACP request to one server id and can detach from it.
 *
 * The SDK names its ACP server (one agent process in the sandbox) `sdk-<agent>-<random>` and deletes it
 * on dispose. tabmesh needs the opposite: a server id derived from the tab, so any process can find or
 * delete it through sandbox-agent, and a session that outlives the process that created it. So
 * requests go to `/v1/acp/{serverId}`, and once detached the SDK's closing DELETE is answered here.
 */
export function pinnedAcpFetch(target: AgentTarget, serverId: string): { fetch: typeof fetch; detach: () => void } {
  const base = target.fetch ?? globalThis.fetch.bind(globalThis);
  let detached = false;
  const pinned: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (AcpPath.test(url.pathname)) {
      if (detached && request.method === 'DELETE') return new Response(null, { status: 204 });
      url.pathname = url.pathname.replace(AcpPath, `$1/${encodeURIComponent(serverId)}`);
      return base(new Request(url, request));
    }
    return base(request);
  };
  return {
    fetch: pinned,
    detach: () => {
      detached = true;
    },
  };
}

export function connectAgent(
  target: AgentTarget,
  opts: { persist?: SessionPersistDriver; fetch?: typeof fetch; skipHealthCheck?: boolean; signal?: AbortSignal } = {},
): SandboxAgent {
  const fetcher = opts.fetch ?? target.fetch;
  return new SandboxAgent({
    baseUrl: target.baseUrl,
    ...(fetcher ? { fetch: fetcher } : {}),
    ...(target.token ? { token: target.token } : {}),
    ...(opts.persist ? { persist: opts.persist } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    skipHealthCheck: opts.skipHealthCheck ?? true,
  });
}

/** True for errors meaning "nothing listens there": the sandbox is gone, not merely slow. */
export function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return true;
  }
  return false;
}

/** The sandbox-agent problem type without its URN prefix, e.g. `install_failed`. */
export function problemType(err: unknown): string | null {
  const problem = (err as { problem?: { type?: unknown } }).problem;
  const type = typeof problem?.type === 'string' ? problem.type : null;
  return type ? type.replace(/^urn:sandbox-agent:error:/, '') : null;
}

/** Maps a failure talking to a sandbox to a provider error code. */
export function toProviderError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (isConnectionRefused(err) || (err instanceof TypeError && /fetch failed/.test(err.message))) {
    return new ProviderError(ErrorCode.SandboxGone, `${what}: sandbox-agent is unreachable`, {
      retryable: true,
      cause: err,
    });
  }
  if (err instanceof SandboxAgentError && err.status === 401) {
    return new ProviderError(
      ErrorCode.SandboxGone,
      `${what}: sandbox-agent rejected the token (another sandbox on that port?)`,
      { retryable: true, cause: err },
    );
  }
  const type = problemType(err);
  if (type === 'install_failed' || type === 'agent_not_installed') {
    return new ProviderError(ErrorCode.AgentNotInstalled, `${what}: agent is not installed in the sandbox`, {
      cause: err,
    });
  }
  if (type === 'unsupported_agent') {
    return new ProviderError(ErrorCode.SessionRefused, `${what}: unsupported agent`, { cause: err });
  }
  // The SDK's text may carry agent stderr or host paths: it goes to the logs, not to users.
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(ErrorCode.SessionFailed, `${what}: sandbox-agent request failed`, {
    retryable: true,
    cause: err,
    details: { message },
  });
}
