export type { SandboxProvider, ProvisionRequest, SessionRequest } from './provider.js';
export { ProviderError, CredentialsMissingError } from './errors.js';
export { SimProvider, SimLedger, type SimSettings } from './sim-provider.js';
export { SimKvProvider, loadSimLedgerSettings, simSandboxId, simSessionId, type SimLedgerSettings } from './sim-kv-provider.js';
export { SimKvLedger, SimLedgerBucket, countLive, type SimSandboxEntry, type SimSessionEntry } from './sim-ledger-kv.js';
export { LocalProvider, type LocalProviderOptions } from './local/local-provider.js';
export { loadLocalSettings, type LocalSettings } from './local/local-settings.js';
export { resolveBinary, packagedBinaryPath } from './local/binary.js';
export { localSandboxId, type SandboxRecord } from './local/sandbox-record.js';
export { RemoteProvider } from './remote/remote-provider.js';
export { RemoteProviders, loadRemoteSettings, isRemoteProvider, type RemoteProviderName } from './remote/remote-settings.js';
export { sessionIdFor } from './sandbox-agent/sessions.js';
export {
  JetStreamSessionPersistDriver,
  SessionPersistNames,
  SessionEventIndexConflictError,
  type JetStreamPersistOptions,
} from './persist/jetstream-persist-driver.js';
export { createProvider, type ProviderSettings, type ProviderDeps } from './create-provider.js';
export { findSandboxProcesses } from './local/processes.js';
export { ProviderMismatchError, assertOwnSandbox, ownSandboxesOnly } from './provider-guard.js';
export { stopLocalSandboxes, localSandboxProcesses } from './local/stop-sandboxes.js';
