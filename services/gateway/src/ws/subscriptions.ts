import { mayUseOrg } from '@tabmesh/auth';
import { type ClientFrame, ErrorCode, ServerFrameType } from '@tabmesh/contracts';
import type { Logger } from '@tabmesh/runtime';
import { type TaskCache, taskTopic } from '../feed/task-cache.js';
import type { TaskFeed } from '../feed/task-feed.js';
import type { GatewayMetrics } from '../gateway-metrics.js';
import { LimitKind } from '../limits/gateway-limits.js';
import { sendError, sendFrame, sendText } from './frames.js';
import type { PressureGuard } from './pressure-guard.js';
import type { Socket } from './socket-data.js';

type Subscribe = Extract<ClientFrame, { op: 'subscribe' }>;
type Unsubscribe = Extract<ClientFrame, { op: 'unsubscribe' }>;

export const DefaultMaxSubscriptionsPerSocket = 256;

let nextToken = 0;

/**
 * Subscribe and unsubscribe for one socket. The catch-up (snapshot, or missed frames then the task)
 * and `ws.subscribe(topic)` happen in one synchronous step after the task is loaded, so no
 * published frame falls between them and none is sent twice.
 */
export class Subscriptions {
  constructor(
    private readonly feed: TaskFeed,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly guard: PressureGuard,
    /** A catch-up bigger than this is replaced by a snapshot: sent whole, it would get the socket dropped. */
    private readonly maxCatchUpBytes: number,
    private readonly maxPerSocket = DefaultMaxSubscriptionsPerSocket,
  ) {}

  subscribe(ws: Socket, frame: Subscribe): void {
    const data = ws.getUserData();
    if (!mayUseOrg(data.principal, frame.org)) {
      // Checked before the task is retained or loaded: a refused subscribe reads nothing.
      this.metrics.wsFramesRejected.inc();
      this.logger.warn(
        { socket: data.id, sub: data.principal.sub, org: frame.org, task: frame.task },
        'subscribe refused: org not allowed',
      );
      sendError(ws, ErrorCode.Forbidden, `this token may not use org ${frame.org}`, this.metrics);
      return;
    }
    const topic = taskTopic(frame.org, frame.task);
    let sub = data.subscriptions.get(topic);
    if (!sub && data.subscriptions.size >= this.maxPerSocket) {
      this.metrics.wsFramesRejected.inc();
      this.metrics.limitRefusals.inc({ kind: LimitKind.Subscriptions });
      sendError(
        ws,
        ErrorCode.LimitReached,
        `too many subscriptions: at most ${this.maxPerSocket} per socket; unsubscribe one first`,
        this.metrics,
      );
      return;
    }
    const token = ++nextToken;
    if (sub) {
      // A repeated subscribe starts over: the new catch-up replaces the live stream.
      ws.unsubscribe(topic);
      sub.token = token;
    } else {
      sub = { token, cache: this.feed.retain(frame.org, frame.task) };
      data.subscriptions.set(topic, sub);
      this.metrics.wsSubscriptions.inc();
    }
    const stopTimer = this.metrics.snapshotSeconds.startTimer();
    const current = () => data.open && data.subscriptions.get(topic)?.token === token;
    this.feed.whenReady(sub.cache, {
      ready: (cache) => {
        if (!current()) return;
        ws.cork(() => {
          this.catchUp(ws, cache, frame.sinceRevision);
          ws.subscribe(topic);
        });
        this.guard.join(topic, ws);
        stopTimer();
        this.guard.inspect(ws);
      },
      failed: (err) => {
        if (!current()) return;
        this.drop(ws, topic);
        this.logger.warn({ err, socket: data.id, org: frame.org, task: frame.task }, 'subscribe failed');
        sendError(
          ws,
          ErrorCode.Unavailable,
          `task ${frame.org}/${frame.task} could not be loaded; subscribe again`,
          this.metrics,
        );
      },
    });
  }

  unsubscribe(ws: Socket, frame: Unsubscribe): void {
    this.drop(ws, taskTopic(frame.org, frame.task));
  }

  /** Releases every subscription of a closed socket (uWS has already left its topics). */
  closed(ws: Socket): void {
    const data = ws.getUserData();
    for (const [topic, sub] of data.subscriptions) {
      this.guard.leave(topic, ws);
      this.feed.release(sub.cache);
    }
    this.metrics.wsSubscriptions.dec(data.subscriptions.size);
    data.subscriptions.clear();
  }

  private drop(ws: Socket, topic: string): void {
    const data = ws.getUserData();
    const sub = data.subscriptions.get(topic);
    if (!sub) return;
    ws.unsubscribe(topic);
    this.guard.leave(topic, ws);
    data.subscriptions.delete(topic);
    this.feed.release(sub.cache);
    this.metrics.wsSubscriptions.dec();
  }

  private catchUp(ws: Socket, cache: TaskCache, sinceRevision: number | undefined): void {
    if (sinceRevision !== undefined && cache.ring.covers(sinceRevision)) {
      const missed = cache.ring.after(sinceRevision);
      if (missed.reduce((n, text) => n + text.length, 0) <= this.maxCatchUpBytes) {
        for (const text of missed) sendText(ws, text, ServerFrameType.Tab, this.metrics);
        sendFrame(ws, { v: 1, type: ServerFrameType.Task, task: cache.status }, this.metrics);
        return;
      }
    }
    sendFrame(
      ws,
      {
        v: 1,
        type: ServerFrameType.Snapshot,
        org: cache.org,
        task: cache.task,
        tabs: cache.openTabs(),
        taskStatus: cache.status,
        revision: this.feed.lastRevision,
      },
      this.metrics,
    );
  }
}
