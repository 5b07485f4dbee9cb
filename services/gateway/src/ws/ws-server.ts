import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import type { Logger } from '@tabmesh/runtime';
import uWS from 'uWebSockets.js';
import type { TaskFeed } from '../feed/task-feed.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { parseClientFrame } from './client-frames.js';
import { PressureGuard } from './pressure-guard.js';
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
};

/**
 * The WebSocket API on uWebSockets.js. Fan-out goes through uWS topics (`app.publish`), one per
 * task; the feed encodes each frame once.
 */
export class WsServer {
  private readonly app: uWS.TemplatedApp;
  private readonly sockets = new Set<Socket>();
  private readonly subscriptions: Subscriptions;
  private listenSocket: uWS.us_listen_socket | null = null;
  private accepting = false;
  private boundPort = 0;
  private socketIds = 0;
  private readonly guard: PressureGuard;

  constructor(private readonly opts: WsServerOptions) {
    const { feed, metrics, logger } = opts;
    this.guard = new PressureGuard(opts.maxBackpressure, (ws, buffered) => {
      const data = ws.getUserData();
      metrics.wsBackpressureDrops.inc();
      logger.warn({ socket: data.id, buffered, subscriptions: data.subscriptions.size }, 'slow websocket client dropped');
    });
    this.subscriptions = new Subscriptions(
      feed,
      metrics,
      logger,
      this.guard,
      opts.maxBackpressure,
      opts.maxSubscriptionsPerSocket,
    );
    this.app = uWS.App()
      .ws<SocketData>(WsPath, {
        maxPayloadLength: opts.maxPayloadLength ?? 16 * 1024,
        idleTimeout: opts.idleTimeoutSec ?? 60,
        sendPingsAutomatically: true,
        maxBackpressure: opts.maxBackpressure,
        // The backstop behind PressureGuard: a socket over the limit is closed, never silently skipped.
        // Typed as a number in this build's .d.ts; uWS reads it as a boolean.
        closeOnBackpressureLimit: 1,
        upgrade: (res, req, context) => {
          if (!this.accepting) {
            res.writeStatus('503 Service Unavailable').end('WebSocket listener closed\n');
            return;
          }
          const data: SocketData = { id: ++this.socketIds, open: true, subscriptions: new Map(), dropped: false };
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
        this.guard.published(topic);
      },
    });
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
        this.accepting = true;
        this.boundPort = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
        this.opts.logger.info({ port: this.boundPort, path: WsPath }, 'websocket listening');
        resolve(this.boundPort);
      });
    });
  }

  /**
   * Refuses new connections (upgrades get 503) and closes the open ones, as if the listener died.
   * The port stays bound: uSockets binds without SO_REUSEADDR, so a closed port stays taken while
   * the server side of the closed sockets sits in TIME_WAIT, and reopening could fail for a minute.
   */
  closeListener(): void {
    this.accepting = false;
    for (const ws of [...this.sockets]) ws.end(1001, 'server going away');
    this.opts.logger.warn({ port: this.boundPort }, 'websocket listener closed');
  }

  reopenListener(): void {
    this.accepting = this.listenSocket !== null;
    this.opts.logger.info({ port: this.boundPort }, 'websocket listener reopened');
  }

  stop(): void {
    this.closeListener();
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
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
    logger.debug({ socket: data.id, code, dropped: data.dropped }, 'websocket closed');
    this.subscriptions.closed(ws);
  }
}
