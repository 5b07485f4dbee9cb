/**
 * Prometheus metric names of the worker services (tab-registry, provisioner, session-creator), as
 * DESIGN.md "Operating it" lists them. The ops listener of libs/runtime registers these names and the
 * Grafana dashboard (deploy/grafana) reads them; its test fails when a panel names a metric missing here.
 */
export const WorkerMetricNames = {
  /** Counter `{service, outcome}`; outcome: succeeded, retried, failed, poison. */
  jobs: 'tabmesh_jobs_total',
  /** Gauge `{service}`: jobs being worked on now. */
  jobsInFlight: 'tabmesh_jobs_in_flight',
  /** Gauge `{consumer}`: messages not yet delivered (the queue depth KEDA scales on). */
  consumerPending: 'tabmesh_consumer_pending',
  /** Gauge `{consumer}`: delivered and not yet acknowledged. */
  consumerAckPending: 'tabmesh_consumer_ack_pending',
  /** Histogram `{provider, step}`: seconds per provisioning or session step. */
  stepDuration: 'tabmesh_step_duration_seconds',
  /** Histogram `{provider}`: seconds a job waited in its stream before a worker took it. */
  queueWait: 'tabmesh_queue_wait_seconds',
  /** Histogram: seconds from a tab's creation to `ready`. */
  timeToReady: 'tabmesh_time_to_ready_seconds',
  /** Counter `{service}`: NATS reconnections. */
  busReconnects: 'tabmesh_bus_reconnects_total',
  /** Histogram `{service}`: seconds a SIGTERM drain took. */
  drainDuration: 'tabmesh_drain_duration_seconds',
} as const;

/** The process metrics prom-client collects by default (collectDefaultMetrics) that the dashboard reads. */
export const ProcessMetricNames = {
  cpuSeconds: 'process_cpu_seconds_total',
  residentMemory: 'process_resident_memory_bytes',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
} as const;
