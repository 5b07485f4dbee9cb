import uWS from 'uWebSockets.js';
import { bearerToken, ForbiddenError, UnauthenticatedError } from '@tabmesh/auth';
import { ErrorCode, TabmeshError } from '@tabmesh/contracts';
import type { Logger } from '@tabmesh/runtime';
import type { Authenticator, Principal } from '../access/authenticator.js';
import type { OriginPolicy } from '../access/origins.js';
import type { TaskFeed } from '../feed/task-feed.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { ProblemContentType, retryAfterHeader, toProblem } from '../http/problem.js';
import { GatewayLimits } from '../limits/gateway-limits.js';
import { parseClientFrame } from './client-frames.js';
import { sendError } from './frames.js';
import { PressureGuard } from './pressure-guard.js';
import type { Socket, SocketData } from './socket-data.js';
import { Subscriptions } from './subscriptions.js';

export const WsPath = '/v1/ws';

/** Close code of a socket whose token expired (4000-4999 are the application's; 401 as in HTTP). */
export const TokenExpiredCloseCode = 4401;

/** setTimeout's ceiling (about 24.8 days); a longer delay would fire at once. */
const MaxTimerMs = 2 ** 31 - 1;

const StatusLines: Record<number, string> = {
  401: '401 Unauthorized',
  403: '403 Forbidden',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export type WsServerOptions = {
  feed: TaskFeed;
  metrics: GatewayMetrics;
  logger: Logger;
  authenticator: Authenticator;
  origins: OriginPolicy;
  /** Request rate (an upgrade is a request), sockets per token and subscribe frames. */
  limits: GatewayLimits;
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
      logger.warn(
        { socket: data.id, buffered, subscriptions: data.subscriptions.size },
        'slow websocket client dropped',
      );
    });
    this.subscriptions = new Subscriptions(
      feed,
      metrics,
      logger,
      this.guard,
      opts.maxBackpressure,
      opts.maxSubscriptionsPerSocket,
    );
    this.app = uWS
      .App()
      .ws<SocketData>(WsPath, {
        maxPayloadLength: opts.maxPayloadLength ?? 16 * 1024,
        idleTimeout: opts.idleTimeoutSec ?? 60,
        sendPingsAutomatically: true,
        maxBackpressure: opts.maxBackpressure,
        // The backstop behind PressureGuard: a socket over the limit is closed, never silently skipped.
        // Typed as a number in this build's .d.ts; uWS reads it as a boolean.
        closeOnBackpressureLimit: 1,
        upgrade: (res, req, context) => this.onUpgrade(res, req, context),
        open: (ws) => {
          this.sockets.add(ws);
          metrics.wsConnections.inc();
          this.armExpiry(ws);
        },
        message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
        close: (ws, code) => this.onClose(ws, code),
      })
      .any('/*', (res) => {
        res
          .writeStatus('404 Not Found')
          .writeHeader('Content-Type', 'text/plain')
          .end(`WebSocket endpoint is ${WsPath}\n`);
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

  /**
   * Checks the Origin, then verifies the token (Authorization header, or the `access_token` query
   * parameter browsers must use) and only then upgrades. uWS's `req` lives only for this callback,
   * so everything is copied out first; verification may be asynchronous (a JWKS fetch), so the
   * upgrade happens later, corked, unless the client has gone.
   */
  private onUpgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    const { logger, origins, authenticator } = this.opts;
    if (!this.accepting) {
      res.writeStatus('503 Service Unavailable').end('WebSocket listener closed\n');
      return;
    }
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const origin = req.getHeader('origin');
    const token = bearerToken(req.getHeader('authorization')) ?? (req.getQuery('access_token') || null);
    const address = Buffer.from(res.getRemoteAddressAsText()).toString();
    if (!origins.allows(origin)) {
      logger.warn({ origin }, 'websocket upgrade refused: origin not allowed');
      this.refuseUpgrade(res, new ForbiddenError(`origin not allowed: ${origin}`));
      return;
    }
    const upgrade = { aborted: false };
    res.onAborted(() => {
      upgrade.aborted = true;
    });
    authenticator.authenticate(token).then(
      (principal) => {
        if (upgrade.aborted) return;
        if (!this.accepting) {
          res.cork(() => res.writeStatus('503 Service Unavailable').end('WebSocket listener closed\n'));
          return;
        }
        if (!authenticator.enabled) logger.warn('TABMESH_AUTH=off: websocket not authenticated');
        const limitKey = GatewayLimits.callerKey(principal, authenticator.enabled, address);
        try {
          this.opts.limits.checkRequest(limitKey);
          // Taken here and given back in onClose: uWS opens the socket inside res.upgrade, in this
          // same synchronous step, so concurrent upgrades of one token cannot both pass the check.
          this.opts.limits.acquireSocket(limitKey);
        } catch (err) {
          logger.debug(
            { sub: principal.sub, sockets: this.opts.limits.socketsOf(limitKey), reason: (err as Error).message },
            'websocket upgrade refused: limit',
          );
          res.cork(() => this.refuseUpgrade(res, err));
          return;
        }
        const data: SocketData = {
          id: ++this.socketIds,
          open: true,
          subscriptions: new Map(),
          dropped: false,
          principal,
          limitKey,
          frameBucket: this.opts.limits.newSocketBucket(),
          expiryTimer: null,
        };
        res.cork(() => res.upgrade(data, key, protocol, extensions, context));
      },
      (err: unknown) => {
        if (err instanceof UnauthenticatedError) {
          logger.warn({ reason: err.reason, check: err.check }, 'websocket upgrade refused: unauthenticated');
        } else {
          logger.error({ err }, 'websocket upgrade failed');
        }
        if (upgrade.aborted) return;
        res.cork(() => this.refuseUpgrade(res, err));
      },
    );
  }

  /** Answers an upgrade with the same problem+json an HTTP route would send, and no upgrade. */
  private refuseUpgrade(res: uWS.HttpResponse, err: unknown): void {
    const problem = toProblem(err, WsPath, undefined);
    res
      .writeStatus(StatusLines[problem.status] ?? `${problem.status} Refused`)
      .writeHeader('Content-Type', ProblemContentType);
    if (problem.code === ErrorCode.Unauthenticated) res.writeHeader('WWW-Authenticate', 'Bearer realm="tabmesh"');
    const retryAfter = retryAfterHeader(err)['Retry-After'];
    if (retryAfter) res.writeHeader('Retry-After', retryAfter);
    res.end(JSON.stringify(problem));
  }

  /** Closes the socket when its token expires, so a socket never outlives the right to open it. */
  private armExpiry(ws: Socket): void {
    const data = ws.getUserData();
    if (data.principal.exp === null) return;
    const left = data.principal.exp * 1000 - Date.now();
    data.expiryTimer = setTimeout(
      () => {
        data.expiryTimer = null;
        if (!data.open) return;
        if (left > MaxTimerMs) return this.armExpiry(ws);
        this.closeExpired(ws);
      },
      Math.max(0, Math.min(left, MaxTimerMs)),
    );
  }

  private closeExpired(ws: Socket): void {
    const data = ws.getUserData();
    this.opts.logger.info({ socket: data.id, sub: data.principal.sub }, 'websocket closed: token expired');
    ws.end(TokenExpiredCloseCode, 'token expired');
  }

  private expired(principal: Principal): boolean {
    return principal.exp !== null && principal.exp * 1000 <= Date.now();
  }

  private onMessage(ws: Socket, message: ArrayBuffer, isBinary: boolean): void {
    const { metrics, logger } = this.opts;
    // The timer may lag behind a busy loop; a frame after expiry is never served.
    const data = ws.getUserData();
    if (this.expired(data.principal)) {
      this.closeExpired(ws);
      return;
    }
    try {
      const frame = parseClientFrame(message, isBinary);
      // Before the frame is served: a refused subscribe retains and loads nothing; the socket stays.
      const refused = this.opts.limits.checkFrame(data.frameBucket, data.limitKey);
      if (refused) {
        metrics.wsFramesRejected.inc();
        sendError(ws, refused.code, `${frame.op} ${frame.org}/${frame.task} refused: ${refused.message}`, metrics);
        return;
      }
      if (frame.op === 'subscribe') this.subscriptions.subscribe(ws, frame);
      else this.subscriptions.unsubscribe(ws, frame);
    } catch (err) {
      metrics.wsFramesRejected.inc();
      if (err instanceof TabmeshError) {
        sendError(ws, err.code, err.message, metrics);
        return;
      }
      logger.error({ err, socket: data.id }, 'websocket message failed');
      sendError(ws, ErrorCode.Internal, 'internal error', metrics);
    }
  }

  private onClose(ws: Socket, code: number): void {
    const { metrics, logger } = this.opts;
    const data = ws.getUserData();
    data.open = false;
    if (data.expiryTimer) clearTimeout(data.expiryTimer);
    data.expiryTimer = null;
    this.sockets.delete(ws);
    this.opts.limits.releaseSocket(data.limitKey);
    metrics.wsConnections.dec();
    logger.debug({ socket: data.id, sub: data.principal.sub, code, dropped: data.dropped }, 'websocket closed');
    this.subscriptions.closed(ws);
  }
}
