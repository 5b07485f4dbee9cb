export {
  type Bus,
  type BusLimits,
  type BusSettings,
  BusWaitMs,
  bindBus,
  ensureBus,
  streamsOf,
  TabRequestsAgeMarginMs,
} from './bus-setup.js';
export {
  type Config,
  ConfigError,
  ConfigSchema,
  isSecretVariable,
  loadConfig,
  type ProviderConfig,
  providerDefaults,
} from './config.js';
export { ConnectionState } from './connection-state.js';
export { correlationHeaders, correlationOf, newCorrelationId } from './correlation.js';
// The whole error table is public: every service classifies failures the same way.
export * from './error-table.js';
export { freePort } from './free-port.js';
export type { InProcessRequests } from './in-process-requests.js';
export { drainConnection, type ServiceHandle, stopOnSignals } from './lifecycle.js';
export { createLogger, jobLogger, type Logger } from './logger.js';
export { authOptions, connectNats, type NatsAuth, natsAuthOf, ReconnectWithinMs, setupAuthOf } from './nats.js';
export {
  AdminGrant,
  busUsers,
  localBusPasswords,
  type NatsUser,
  natsUserEnv,
  passwordEnvVar,
  renderDeployAccounts,
  renderNatsAuthorization,
} from './nats-users.js';
export { type OpsListener, type OpsListenerOptions, type ReadyReport, startOpsListener } from './ops-listener.js';
export {
  ProviderConfigShape,
  type ProviderName,
  ProviderNames,
  type ProviderVariable,
  type RemoteProviderName,
  RemoteProviderNames,
} from './provider-config.js';
export { ProvisionedTasks } from './provisioned-tasks.js';
export { isStoreFull, publishJob, QueueFullError } from './publish.js';
export { announceReady, isReadySignal, MeshHostName, type ReadySignal, waitForReadySignal } from './ready-signal.js';
export { RecentMap } from './recent-map.js';
export { type RecordEntryHandler, watchRecords } from './record-watch.js';
export { runMain } from './run-main.js';
export { SandboxSecrets } from './sandbox-secrets.js';
export { holderIsCurrent, SandboxSlots, type SlotHolderRef } from './sandbox-slots.js';
export { Semaphore } from './semaphore.js';
export {
  type LifecycleReport,
  type RunningService,
  type ServiceContext,
  type ServiceOptions,
  type ServicePart,
  type StopStep,
  startService,
} from './service-lifecycle.js';
export {
  type ConsumerCounts,
  createMetricsRegistry,
  type LifecycleMetrics,
  registerLifecycleMetrics,
  registerWorkerMetrics,
  timedProvider,
  type WorkerMetrics,
  type WorkerMetricsOptions,
} from './service-metrics.js';
export { nowIso, TabStore, TaskStore } from './stores.js';
export { TabFlow } from './tab-flow.js';
export { TypedBucket, type Versioned } from './typed-kv.js';
export { withTimeout } from './with-timeout.js';
export { type FailureInfo, type JobContext, JobWorker, type WorkerOptions, type WorkerStats } from './worker.js';
export {
  startWorkerService,
  type WorkerKind,
  type WorkerProvider,
  type WorkerServiceHandle,
} from './worker-service.js';
