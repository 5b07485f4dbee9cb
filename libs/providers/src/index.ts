export type { SandboxProvider, ProvisionRequest, SessionRequest } from './provider.js';
export { SimProvider, SimLedger, type SimSettings } from './sim-provider.js';
export { createProvider, type ProviderSettings } from './create-provider.js';
