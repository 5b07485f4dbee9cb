import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import type { Logger } from '@tabmesh/runtime';
import uWS from 'uWebSockets.js';
import type { TaskFeed } from '../feed/task-feed.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { parseClientFrame } from './client-frames.js';
import { sendError } from './frames.js';
import type { Socket, SocketData } from './socket-data.js';
import { Subscriptions } from './subscriptions.js';

export const WsPath = '/v1/ws';

export type WsServerOptions = {
  feed: TaskFeed;
  metrics: GatewayMetrics;
  logger: Logger;
  maxBackpressure: number;
  /** Seconds without traffic before a socket is dropped; the server pings well before that. */
  idleTimeoutSec?: number;
  maxPayloadLength?: number;
  maxSubscriptionsPerSocket?: number;
  /** How often send buffers are sampled (metrics, and telling backpressure drops from other closes). */
  sampleIntervalMs?: number;
};

/** uWS reports an abrupt close (no close frame) with this code: a backpressure drop is one. */
const AbnormalClose = 1006;

/**
 * The WebSocket API on uWebSockets.js. Fan-out goes through uWS topics (`app.publish`), one per
 * task; the feed encodes each frame once.
 */
export class WsServer {
  private readonly app: uWS.TemplatedApp;
  private readonly sockets = new Set<Socket>();
  private readonly subscriptions: Subscriptions;
  private listenSocket: uWS.us_listen_socket | null = null;
  private boundPort = 0;
  private socketIds = 0;
  private readonly sampler: NodeJS.Timeout;

  constructor(private readonly opts: WsServerOptions) {
    const { feed, metrics, logger } = opts;
    this.subscriptions = new Subscriptions(feed, metrics, logger, opts.maxSubscriptionsPerSocket);
    this.app = uWS.App()
      .ws<SocketData>(WsPath, {
        maxPayloadLength: opts.maxPayloadLength ?? 16 * 1024,
        idleTimeout: opts.idleTimeoutSec ?? 60,
        sendPingsAutomatically: true,
        maxBackpressure: opts.maxBackpressure,
        // Typed as a number in this build's .d.ts; uWS reads it as a boolean.
        closeOnBackpressureLimit: 1,
        upgrade: (res, req, context) => {
          const data: SocketData = { id: ++this.socketIds, open: true, subscriptions: new Map(), buffered: 0 };
          res.upgrade(
            data,
            req.getHeader('sec-websocket-key'),
            req.getHeader('sec-websocket-protocol'),
            req.getHeader('sec-websocket-extensions'),
            context,
          );
        },
        open: (ws) => {
          this.sockets.add(ws);
          metrics.wsConnections.inc();
        },
        message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
        close: (ws, code) => this.onClose(ws, code),
      })
      .any('/*', (res) => {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain').end(`WebSocket endpoint is ${WsPath}\n`);
      });
    feed.setSink({
      publish: (topic, text, type) => {
        const receivers = this.app.numSubscribers(topic);
        if (receivers === 0) return;
        this.app.publish(topic, text, false);
        metrics.wsFramesSent.inc({ type }, receivers);
      },
    });
    this.sampler = setInterval(() => this.sample(), opts.sampleIntervalMs ?? 100);
    this.sampler.unref();
  }

  get port(): number {
    return this.boundPort;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Listens on `port` (0 = any free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (listenSocket) => {
        if (!listenSocket) {
          reject(new Error(`WebSocket listener could not bind ${host}:${port}`));
          return;
        }
        this.listenSocket = listenSocket;
        this.boundPort = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
        this.opts.logger.info({ port: this.boundPort, path: WsPath }, 'websocket listening');
        resolve(this.boundPort);
      });
    });
  }

  /** Stops accepting connections and closes open sockets (clients then resume elsewhere or later). */
  closeListener(): void {
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const ws of [...this.sockets]) ws.end(1001, 'server going away');
  }

  stop(): void {
    clearInterval(this.sampler);
    this.closeListener();
  }

  private onMessage(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    const { metrics, logger } = this.opts;
    try {
      const frame = parseClientFrame(message, isBinary);
      if (frame.op === 'subscribe') this.subscriptions.subscribe(ws, frame);
      else this.subscriptions.unsubscribe(ws, frame);
    } catch (err) {
      metrics.wsFramesRejected.inc();
      if (err instanceof TabmeshError) {
        sendError(ws, err.code, err.message, metrics);
        return;
      }
      logger.error({ err, socket: ws.getUserData().id }, 'websocket message failed');
      sendError(ws, ErrorCode.Internal, 'internal error', metrics);
    }
  }

  private onClose(ws: Socket, code: number): void {
    const { metrics, logger } = this.opts;
    const data = ws.getUserData();
    data.open = false;
    this.sockets.delete(ws);
    metrics.wsConnections.dec();
    if (code === AbnormalClose && data.buffered > 0) {
      metrics.wsBackpressureDrops.inc();
      logger.warn({ socket: data.id, buffered: data.buffered, subscriptions: data.subscriptions.size }, 'slow websocket client dropped');
    }
    this.subscriptions.closed(ws);
  }

  /** Samples send buffers: a cheap periodic pass for metrics, never part of the fan-out path. */
  private sample(): void {
    let total = 0;
    for (const ws of this.sockets) {
      const data = ws.getUserData();
      data.buffered = ws.getBufferedAmount();
      total += data.buffered;
    }
    this.opts.metrics.wsBufferedBytes.set(total);
  }
}
