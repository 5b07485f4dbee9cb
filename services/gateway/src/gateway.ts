import {
  type Config,
  type InProcessRequests,
  type Logger,
  type RunningService,
  startService,
  TabStore,
  TaskStore,
} from '@tabmesh/runtime';
import { createWorkbenchHandler } from '@tabmesh/workbench-ui';
import { createAuthenticator } from './access/authenticator.js';
import { requireNativeWebSockets } from './access/native-websockets.js';
import { OriginPolicy } from './access/origins.js';
import { BusClient, DefaultRequestTimeoutMs } from './bus-client.js';
import { TaskFeed } from './feed/task-feed.js';
import { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
import { createHttpApp, MaxBodyBytes } from './http/app.js';
import { startHttpServer } from './http/server.js';
import { GatewayLimits } from './limits/gateway-limits.js';
import { Readiness } from './readiness.js';
import { WsServer } from './ws/ws-server.js';

/** Knobs that are not deployment configuration; tests turn them. */
export type GatewayOptions = {
  /** Timeout of a `tab.*` request to tab-registry. */
  requestTimeoutMs?: number;
  /** Recent tab frames kept per task for resumes. */
  ringSize?: number;
  /** How long a task stays cached after its last subscriber leaves. */
  evictAfterMs?: number;
  wsIdleTimeoutSec?: number;
  maxSubscriptionsPerSocket?: number;
  /** tab-registry's requests answered in this process (the mesh host): used instead of the bus while it serves. */
  inProcessRegistry?: InProcessRequests;
};

export type GatewayHandle = RunningService<{
  httpPort: number;
  wsPort: number;
  metrics: GatewayMetrics;
  /** Closes the open WebSocket connections and refuses new ones, as if the listener died. */
  closeWsListener: () => void;
  /** Accepts WebSocket connections again, on the same port. */
  reopenWsListener: () => Promise<void>;
  /** Tasks currently cached for fan-out. */
  cachedTasks: () => number;
  /** The last `tabs` bucket revision the fan-out has processed. */
  feedRevision: () => number;
  /** Method and hono path of every route the HTTP app registered (middleware left out). */
  httpRoutes: { method: string; path: string }[];
}>;

/**
 * Starts the gateway on the shared lifecycle: NATS and buckets, then KV watches, the WebSocket and
 * the HTTP listener (which also serves the ops routes, so there is no separate ops listener).
 */
export async function startGateway(
  config: Config,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<GatewayHandle> {
  // Access checks come first: the gateway refuses to start open or on the JavaScript WebSocket fallback.
  const authenticator = createAuthenticator(config, logger);
  requireNativeWebSockets(config.GATEWAY_ALLOW_JS_WEBSOCKETS, logger);
  const origins = new OriginPolicy(config.GATEWAY_HOST, config.GATEWAY_ALLOWED_ORIGINS);
  if (config.GATEWAY_HTTP_PORT !== 0) origins.addOwnOrigins(config.GATEWAY_HTTP_PORT);
  return startService({
    name: 'gateway',
    config,
    logger,
    readyMessage: 'gateway started',
    opsListener: false,
    start: async ({ bus, connection, metrics: processMetrics, onStop }) => {
      const metrics = createGatewayMetrics();
      const limits = new GatewayLimits(config, metrics);
      connection.onReconnect(() => metrics.natsReconnects.inc());
      const readiness = new Readiness(connection);
      readiness.markBucketsBound();
      const tabs = new TabStore(bus.tabs);
      const tasks = new TaskStore(bus.tasks);

      const taskFeed = new TaskFeed({
        tabs,
        tasks,
        metrics,
        logger,
        ringSize: options.ringSize ?? 256,
        evictAfterMs: options.evictAfterMs ?? 60_000,
      });
      onStop(() => taskFeed.stop());
      await taskFeed.start();
      readiness.addWatch('tabs', () => taskFeed.watchesRunning().tabs);
      readiness.addWatch('tasks', () => taskFeed.watchesRunning().tasks);

      const wsServer = new WsServer({
        feed: taskFeed,
        metrics,
        logger,
        authenticator,
        origins,
        limits,
        maxBackpressure: config.GATEWAY_WS_MAX_BACKPRESSURE,
        idleTimeoutSec: options.wsIdleTimeoutSec,
        maxSubscriptionsPerSocket: options.maxSubscriptionsPerSocket,
      });
      onStop(() => wsServer.stop());
      const wsPort = await wsServer.listen(config.GATEWAY_HOST, config.GATEWAY_WS_PORT);

      const busClient = new BusClient(
        bus.nc,
        options.requestTimeoutMs ?? DefaultRequestTimeoutMs,
        options.inProcessRegistry,
      );
      const page = createWorkbenchHandler({ wsPort });
      const app = createHttpApp({
        bus: busClient,
        tabs,
        tasks,
        readiness,
        metrics,
        processMetrics,
        logger,
        page,
        authenticator,
        origins,
        limits,
      });
      const http = await startHttpServer(app, {
        hostname: config.GATEWAY_HOST,
        port: config.GATEWAY_HTTP_PORT,
        maxBodyBytes: MaxBodyBytes,
      });
      onStop(() => http.close());
      origins.addOwnOrigins(http.port);
      return {
        handle: {
          httpPort: http.port,
          wsPort,
          metrics,
          closeWsListener: () => wsServer.closeListener(),
          reopenWsListener: async () => wsServer.reopenListener(),
          cachedTasks: () => taskFeed.cachedTasks,
          feedRevision: () => taskFeed.lastRevision,
          httpRoutes: app.routes.filter((r) => r.method !== 'ALL').map(({ method, path }) => ({ method, path })),
        },
        running: () => readiness.report().ready,
        ports: { http: http.port, ws: wsPort },
        describe: { httpPort: http.port, wsPort, origins: origins.origins, auth: authenticator.enabled },
      };
    },
  });
}
