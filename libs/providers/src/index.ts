export { createProvider, type ProviderDeps } from './create-provider.js';
export { CredentialsMissingError, ProviderError } from './errors.js';
export { packagedBinaryPath, resolveBinary } from './local/binary.js';
export { LocalProvider, type LocalProviderOptions } from './local/local-provider.js';
export { findSandboxProcesses } from './local/processes.js';
export { localSandboxId, localTaskPrefix, type SandboxRecord } from './local/sandbox-record.js';
export { localSandboxProcesses, stopLocalSandboxes } from './local/stop-sandboxes.js';
export {
  type JetStreamPersistOptions,
  JetStreamSessionPersistDriver,
  SessionEventIndexConflictError,
  SessionPersistNames,
} from './persist/jetstream-persist-driver.js';
export type { ProvisionRequest, SandboxProvider, SessionRequest } from './provider.js';
export { assertOwnSandbox, ownSandboxesOnly, ProviderMismatchError } from './provider-guard.js';
export { startProviderWorker, workerSandboxAccess } from './provider-worker.js';
export { RemoteProvider } from './remote/remote-provider.js';
export { isRemoteProvider, RemoteProviders, type RemoteSettings, remoteSettingsOf } from './remote/remote-settings.js';
export { type SandboxAccess, type SandboxCredentials, withSandboxCredentials } from './sandbox-access.js';
export { sessionIdFor } from './sandbox-agent/sessions.js';
export { SimKvProvider, simSandboxId, simSessionId } from './sim-kv-provider.js';
export {
  countLive,
  SimKvLedger,
  SimLedgerBucket,
  type SimSandboxEntry,
  type SimSessionEntry,
} from './sim-ledger-kv.js';
export { SimLedger, SimProvider, type SimSettings } from './sim-provider.js';
