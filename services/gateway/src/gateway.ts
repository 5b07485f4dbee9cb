import {
  connectNats,
  drainConnection,
  ensureBus,
  TabStore,
  TaskStore,
  type Config,
  type Logger,
  type ServiceHandle,
} from '@tabmesh/runtime';
import type { NatsConnection } from '@nats-io/transport-node';
import { createWorkbenchHandler } from '@tabmesh/workbench-ui';
import { createAuthenticator } from './access/authenticator.js';
import { requireNativeWebSockets } from './access/native-websockets.js';
import { OriginPolicy } from './access/origins.js';
import { BusClient, DefaultRequestTimeoutMs } from './bus-client.js';
import { TaskFeed } from './feed/task-feed.js';
import { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
import { createHttpApp } from './http/app.js';
import { startHttpServer, type HttpServer } from './http/server.js';
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
};

export type GatewayHandle = ServiceHandle & {
  httpPort: number;
  wsPort: number;
  metrics: GatewayMetrics;
  /** Closes the open WebSocket connections and refuses new ones, as if the listener died. */
  closeWsListener: () => void;
  /** Accepts WebSocket connections again, on the same port. */
  reopenWsListener: () => Promise<void>;
  /** Tasks currently cached for fan-out. */
  cachedTasks: () => number;
  /** Method and hono path of every route the HTTP app registered (middleware left out). */
  httpRoutes: { method: string; path: string }[];
};

/**
 * Starts the gateway: access checks (it refuses to start open or on the JavaScript WebSocket
 * fallback), NATS, buckets, KV watches, then the WebSocket and HTTP listeners.
 */
export async function startGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<GatewayHandle> {
  const authenticator = createAuthenticator(config, logger);
  requireNativeWebSockets(config.GATEWAY_ALLOW_JS_WEBSOCKETS, logger);
  const origins = new OriginPolicy(config.GATEWAY_HOST, config.GATEWAY_ALLOWED_ORIGINS);
  if (config.GATEWAY_HTTP_PORT !== 0) origins.addOwnOrigins(config.GATEWAY_HTTP_PORT);
  const nc = await connectNats(config.NATS_URL, 'gateway', logger);
  let feed: TaskFeed | null = null;
  let ws: WsServer | null = null;
  let http: HttpServer | null = null;
  try {
    const metrics = createGatewayMetrics();
    const readiness = new Readiness(nc, metrics, logger);
    const bus = await ensureBus(nc, config);
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
    feed = taskFeed;
    await taskFeed.start();
    readiness.addWatch('tabs', () => taskFeed.watchesRunning().tabs);
    readiness.addWatch('tasks', () => taskFeed.watchesRunning().tasks);

    const wsServer = new WsServer({
      feed: taskFeed,
      metrics,
      logger,
      authenticator,
      origins,
      maxBackpressure: config.GATEWAY_WS_MAX_BACKPRESSURE,
      idleTimeoutSec: options.wsIdleTimeoutSec,
      maxSubscriptionsPerSocket: options.maxSubscriptionsPerSocket,
    });
    ws = wsServer;
    const wsPort = await wsServer.listen(config.GATEWAY_HOST, config.GATEWAY_WS_PORT);

    const busClient = new BusClient(nc, options.requestTimeoutMs ?? DefaultRequestTimeoutMs);
    const page = createWorkbenchHandler({ wsPort });
    const app = createHttpApp({ bus: busClient, tabs, tasks, readiness, metrics, logger, page, authenticator, origins });
    http = await startHttpServer(app, config.GATEWAY_HOST, config.GATEWAY_HTTP_PORT);
    origins.addOwnOrigins(http.port);
    logger.info({ httpPort: http.port, wsPort, origins: origins.origins, auth: authenticator.enabled }, 'gateway started');

    const httpServer = http;
    let stopping: Promise<void> | null = null;
    return {
      httpPort: http.port,
      wsPort,
      metrics,
      closeWsListener: () => wsServer.closeListener(),
      reopenWsListener: async () => wsServer.reopenListener(),
      cachedTasks: () => taskFeed.cachedTasks,
      httpRoutes: app.routes.filter((r) => r.method !== 'ALL').map(({ method, path }) => ({ method, path })),
      stop: () => (stopping ??= shutdown(nc, taskFeed, wsServer, httpServer, logger)),
    };
  } catch (err) {
    await shutdown(nc, feed, ws, http, logger);
    throw err;
  }
}

async function shutdown(
  nc: NatsConnection,
  feed: TaskFeed | null,
  ws: WsServer | null,
  http: HttpServer | null,
  logger: Logger,
): Promise<void> {
  ws?.stop();
  await http?.close();
  await feed?.stop();
  await drainConnection(nc);
  logger.info('gateway stopped');
}
