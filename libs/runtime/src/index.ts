export { ConfigSchema, ConfigError, loadConfig, isSecretVariable, type Config, type ProviderConfig } from './config.js';
export {
  ProviderConfigShape,
  ProviderNames,
  RemoteProviderNames,
  type ProviderName,
  type RemoteProviderName,
  type ProviderVariable,
} from './provider-config.js';
export { createLogger, jobLogger, type Logger } from './logger.js';
export { connectNats } from './nats.js';
export { correlationHeaders, correlationOf, newCorrelationId } from './correlation.js';
export { ensureBus, TabRequestsAgeMarginMs, type Bus, type BusLimits, type BusSettings } from './bus-setup.js';
export { QueueFullError, isStoreFull } from './publish.js';
export { TypedBucket, type Versioned } from './typed-kv.js';
export { JobWorker, type JobContext, type FailureInfo, type WorkerOptions, type WorkerStats } from './worker.js';
export { publishJob } from './publish.js';
export { Semaphore } from './semaphore.js';
export { stopOnSignals, drainConnection, type ServiceHandle } from './lifecycle.js';
export { TabStore, TaskStore, nowIso } from './stores.js';
export { TabFlow } from './tab-flow.js';
export {
  startWorkerService,
  type WorkerKind,
  type WorkerProvider,
  type WorkerServiceHandle,
} from './worker-service.js';
export {
  startService,
  type LifecycleReport,
  type RunningService,
  type ServiceContext,
  type ServiceOptions,
  type ServicePart,
  type StopStep,
} from './service-lifecycle.js';
export { runMain } from './run-main.js';
export { ConnectionState } from './connection-state.js';
export { startOpsListener, type OpsListener, type OpsListenerOptions, type ReadyReport } from './ops-listener.js';
export { createMetricsRegistry, registerWorkerMetrics } from './service-metrics.js';
export { announceReady, isReadySignal, type ReadySignal } from './ready-signal.js';
export {
  isBusOutage,
  isWrongLastSequence,
  isStreamNameInUse,
  isConsumerExists,
  hasErrorCode,
  isRetryable,
  errorInfoOf,
} from './error-table.js';
export { SandboxSlots, holderIsCurrent, type SlotHolderRef } from './sandbox-slots.js';
export { providerDefaults } from './config.js';
export { ProvisionedTasks } from './provisioned-tasks.js';
