export type { SandboxProvider, ProvisionRequest, SessionRequest } from './provider.js';
export { ProviderError, CredentialsMissingError } from './errors.js';
export { SimProvider, SimLedger, type SimSettings } from './sim-provider.js';
export { SimKvProvider, simSandboxId, simSessionId } from './sim-kv-provider.js';
export { SimKvLedger, SimLedgerBucket, countLive, type SimSandboxEntry, type SimSessionEntry } from './sim-ledger-kv.js';
export { LocalProvider, type LocalProviderOptions } from './local/local-provider.js';
export { resolveBinary, packagedBinaryPath } from './local/binary.js';
export { localSandboxId, localTaskPrefix, type SandboxRecord } from './local/sandbox-record.js';
export { RemoteProvider } from './remote/remote-provider.js';
export { RemoteProviders, remoteSettingsOf, isRemoteProvider, type RemoteSettings } from './remote/remote-settings.js';
export { sessionIdFor } from './sandbox-agent/sessions.js';
export {
  JetStreamSessionPersistDriver,
  SessionPersistNames,
  SessionEventIndexConflictError,
  type JetStreamPersistOptions,
} from './persist/jetstream-persist-driver.js';
export { createProvider, type ProviderDeps } from './create-provider.js';
export { findSandboxProcesses } from './local/processes.js';
export { ProviderMismatchError, assertOwnSandbox, ownSandboxesOnly } from './provider-guard.js';
export { stopLocalSandboxes, localSandboxProcesses } from './local/stop-sandboxes.js';
