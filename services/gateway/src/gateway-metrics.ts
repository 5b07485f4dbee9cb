import { Counter, Gauge, Histogram, Registry } from './metrics.js';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Every metric the gateway exports, so each is named and described once. */
export function createGatewayMetrics() {
  const r = new Registry();
  return {
    registry: r,
    httpRequests: r.register(
      new Counter('tabmesh_gateway_http_requests_total', 'HTTP requests by method, route pattern and status.'),
    ),
    tabCreateSeconds: r.register(
      new Histogram(
        'tabmesh_gateway_tab_create_seconds',
        'Latency of POST tabs, request to reply; must not depend on provider latency.',
        latencyBuckets,
      ),
    ),
    wsConnections: r.register(new Gauge('tabmesh_gateway_ws_connections', 'Open WebSocket connections.')),
    wsSubscriptions: r.register(
      new Gauge('tabmesh_gateway_ws_subscriptions', 'Task subscriptions held by open sockets (pending or live).'),
    ),
    wsFramesSent: r.register(new Counter('tabmesh_gateway_ws_frames_sent_total', 'Frames sent to sockets, by type.')),
    wsFramesRejected: r.register(
      new Counter('tabmesh_gateway_ws_frames_rejected_total', 'Client frames answered with an error frame.'),
    ),
    wsBackpressureDrops: r.register(
      new Counter(
        'tabmesh_gateway_ws_backpressure_drops_total',
        'Sockets closed because their send buffer passed GATEWAY_WS_MAX_BACKPRESSURE.',
      ),
    ),
    limitRefusals: r.register(
      new Counter(
        'tabmesh_gateway_limit_refusals_total',
        'Requests, upgrades and frames refused with limit_reached, by kind (requests, sockets, frames, subscriptions).',
      ),
    ),
    taskCaches: r.register(new Gauge('tabmesh_gateway_task_caches', 'Tasks whose tabs are cached for fan-out.')),
    taskLoadSeconds: r.register(
      new Histogram(
        'tabmesh_gateway_task_load_seconds',
        'Time to bootstrap a task cache (KV read plus catching the watch up).',
        latencyBuckets,
      ),
    ),
    snapshotSeconds: r.register(
      new Histogram('tabmesh_gateway_ws_subscribe_seconds', 'Subscribe request to first frame sent.', latencyBuckets),
    ),
    kvEntries: r.register(new Counter('tabmesh_gateway_kv_entries_total', 'KV watch entries processed, by bucket.')),
    kvInvalidEntries: r.register(
      new Counter('tabmesh_gateway_kv_invalid_entries_total', 'KV watch entries skipped as invalid, by bucket.'),
    ),
    natsReconnects: r.register(new Counter('tabmesh_gateway_nats_reconnects_total', 'NATS reconnections.')),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
