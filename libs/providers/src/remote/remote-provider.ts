import { ErrorCode, SandboxIdSchema, type SandboxRef, Step } from '@tabmesh/contracts';
import { ConfigError, type RemoteProviderName } from '@tabmesh/runtime';
import type { SandboxProvider as SdkSandboxProvider, SessionPersistDriver } from 'sandbox-agent';
import { ProviderError } from '../errors.js';
import type { ProvisionRequest, SandboxProvider, SessionRequest } from '../provider.js';
import type { AgentTarget } from '../sandbox-agent/connection.js';
import { AgentSessions, sessionIdFor } from '../sandbox-agent/sessions.js';
import { RemoteProviders, type RemoteSettings } from './remote-settings.js';

type Factory = (options?: Record<string, unknown>) => SdkSandboxProvider;

/** Static specifiers, so bundlers and vitest see them; each module imports its vendor SDK. */
const sdkModules: Record<RemoteProviderName, () => Promise<unknown>> = {
  docker: () => import('sandbox-agent/docker'),
  daytona: () => import('sandbox-agent/daytona'),
  e2b: () => import('sandbox-agent/e2b'),
  vercel: () => import('sandbox-agent/vercel'),
  modal: () => import('sandbox-agent/modal'),
  sprites: () => import('sandbox-agent/sprites'),
  computesdk: () => import('sandbox-agent/computesdk'),
};

/**
 * Loads the SDK's provider module (`sandbox-agent/<name>`); its vendor package is an optional peer,
 * and a missing one is a boot failure of this deployment's TABMESH_PROVIDER.
 */
export async function loadSdkProvider(settings: RemoteSettings): Promise<SdkSandboxProvider> {
  const spec = RemoteProviders[settings.provider];
  let mod: Record<string, unknown>;
  try {
    mod = (await sdkModules[settings.provider]()) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(
      ['TABMESH_PROVIDER'],
      `TABMESH_PROVIDER=${settings.provider} needs the package ${spec.peer}: pnpm --filter @tabmesh/providers add ${spec.peer}`,
      { cause },
    );
  }
  const factory = mod[spec.module] as Factory;
  const v = settings.values;
  const options: Record<string, unknown> = {};
  if (settings.provider === 'docker' && v.TABMESH_DOCKER_IMAGE) options.image = v.TABMESH_DOCKER_IMAGE;
  if (settings.provider === 'e2b' && v.TABMESH_E2B_TEMPLATE) options.template = v.TABMESH_E2B_TEMPLATE;
  // Vendor SDKs read their own credentials (DAYTONA_API_KEY, E2B_API_KEY, …) from the environment.
  return factory(options);
}

/**
 * A thin adapter over one of the SDK's remote providers (docker, daytona, e2b, …). The sandbox-agent
 * server runs inside the vendor sandbox; the SandboxRef carries its URL and token, and sessions go
 * through the same code as local ones.
 */
export class RemoteProvider implements SandboxProvider {
  readonly name: string;
  private readonly sessions: AgentSessions;

  constructor(
    private readonly sdk: SdkSandboxProvider,
    opts: { sessionTimeoutMs: number; persist?: SessionPersistDriver },
  ) {
    this.name = sdk.name;
    this.sessions = new AgentSessions({
      sessionTimeoutMs: opts.sessionTimeoutMs,
      ...(opts.persist ? { persist: opts.persist } : {}),
    });
  }

  async provision(req: ProvisionRequest): Promise<SandboxRef> {
    await req.onStep(Step.CreatingSandbox);
    let raw: string;
    try {
      raw = await this.sdk.create();
    } catch (cause) {
      throw new ProviderError(ErrorCode.ProvisionFailed, `${this.name}: sandbox creation failed`, {
        retryable: true,
        cause,
      });
    }
    // Every decode of a SandboxRef checks its id; one the contract would refuse is destroyed now rather
    // than leaked by a task record that can never be written.
    if (!SandboxIdSchema.safeParse(raw).success) {
      await this.sdk.destroy(raw).catch(() => undefined);
      throw new ProviderError(ErrorCode.ProvisionFailed, `${this.name}: sandbox id is not usable`, {
        details: { sandboxId: raw },
      });
    }
    await req.onStep(Step.StartingAgent);
    try {
      await this.sdk.ensureServer?.(raw);
      const endpoint = this.sdk.getUrl ? await this.sdk.getUrl(raw) : null;
      const getToken = (this.sdk as { getToken?: (id: string) => Promise<string | undefined> }).getToken;
      const token = getToken ? ((await getToken.call(this.sdk, raw)) ?? null) : null;
      return { provider: this.name, id: raw, endpoint, token };
    } catch (cause) {
      await this.sdk.destroy(raw).catch(() => undefined);
      throw new ProviderError(
        ErrorCode.ProvisionFailed,
        `${this.name}: sandbox-agent did not start in sandbox ${raw}`,
        { retryable: true, cause },
      );
    }
  }

  async destroySandbox(sandbox: SandboxRef): Promise<void> {
    await this.sdk.destroy(sandbox.id);
  }

  private async target(sandbox: SandboxRef): Promise<AgentTarget> {
    if (sandbox.endpoint) return { baseUrl: sandbox.endpoint, token: sandbox.token ?? null };
    if (!this.sdk.getFetch)
      throw new ProviderError(ErrorCode.SandboxGone, `${this.name}: sandbox ${sandbox.id} has no endpoint`);
    return {
      baseUrl: 'http://sandbox-agent',
      token: sandbox.token ?? null,
      fetch: await this.sdk.getFetch(sandbox.id),
    };
  }

  async sandboxAlive(sandbox: SandboxRef): Promise<boolean> {
    try {
      await this.sessions.list(await this.target(sandbox));
      return true;
    } catch {
      return false;
    }
  }

  async createSession(sandbox: SandboxRef, req: SessionRequest): Promise<{ sessionId: string }> {
    return this.sessions.create(await this.target(sandbox), req);
  }

  sessionIdOf(tab: string, attempt: number): string {
    return sessionIdFor(tab, attempt);
  }

  async destroySession(sandbox: SandboxRef, sessionId: string): Promise<void> {
    return this.sessions.destroy(await this.target(sandbox), sessionId);
  }

  async sessionExists(sandbox: SandboxRef, sessionId: string): Promise<boolean> {
    return this.sessions.exists(await this.target(sandbox), sessionId);
  }

  async close(): Promise<void> {}
}
