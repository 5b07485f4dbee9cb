import type { SandboxProvider } from './provider.js';
import { SimProvider } from './sim-provider.js';

export type ProviderSettings = {
  TABMESH_PROVIDER: string;
  TABMESH_SIM_PROVISION_MS: number;
  TABMESH_SIM_SESSION_MS: number;
  TABMESH_SIM_FAIL_RATE: number;
};

/** Builds the provider named by TABMESH_PROVIDER; the one place that knows every provider. */
export async function createProvider(settings: ProviderSettings, env = process.env): Promise<SandboxProvider> {
  switch (settings.TABMESH_PROVIDER) {
    case 'sim':
      return new SimProvider({
        provisionMs: settings.TABMESH_SIM_PROVISION_MS,
        sessionMs: settings.TABMESH_SIM_SESSION_MS,
        failRate: settings.TABMESH_SIM_FAIL_RATE,
      });
    default: {
      void env;
      throw new Error(`TABMESH_PROVIDER=${settings.TABMESH_PROVIDER} is not available yet`);
    }
  }
}
