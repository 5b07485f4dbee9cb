import {
  ClientFrameSchema,
  ErrorCode,
  OrgIdSchema,
  ServerFrameSchema,
  TaskIdSchema,
  describeZodError,
  encodeText,
  parse,
  type ClientFrame,
  type ErrorFrame,
} from '@tabmesh/contracts';
import { DefaultBackoff, backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { defaultWebSocket, SocketOpen, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import { TaskEntry, type TaskListener } from './task-entry.js';
import type { TaskView } from './task-view.js';

export const ConnectionState = {
  /** The first socket is being opened. */
  Connecting: 'connecting',
  Open: 'open',
  /** The socket dropped (or never opened); waiting `delayMs`, then trying again. */
  Reconnecting: 'reconnecting',
  /** Not started yet, or disposed. */
  Closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export type ConnectionStateEvent = {
  state: ConnectionState;
  /** Failed attempts since the socket was last open. */
  attempt: number;
  /** For `reconnecting`: the wait before the next attempt, and when it ends (epoch ms). */
  delayMs: number | null;
  retryAt: number | null;
};

export type ConnectionEvents = {
  state: ConnectionStateEvent;
  /** A frame that is not JSON or breaks the contract; it was ignored. */
  invalidFrame: { data: string; reason: string };
  /** An `error` frame from the gateway (a rejected subscribe, say). */
  serverError: ErrorFrame;
  /** A task listener threw; the connection carried on. */
  listenerError: { org: string; task: string; error: unknown };
};

export type ConnectionOptions = {
  /** The gateway's WebSocket endpoint, e.g. `ws://localhost:8081/v1/ws`. */
  url: string;
  /** Defaults to the global WebSocket; Node 20 has none, so pass the `ws` package's there. */
  WebSocket?: WebSocketConstructor;
  backoff?: Partial<BackoffOptions>;
  /** Source of jitter; tests pin it. */
  random?: () => number;
};

/** A live subscription to one task; the connection keeps its view current. */
export interface TaskSubscription {
  readonly org: string;
  readonly task: string;
  readonly view: TaskView;
  /** Idempotent. The last subscriber of a task leaving sends the server `unsubscribe`. */
  unsubscribe(): void;
}

const entryKey = (org: string, task: string): string => `${org}/${task}`;

/**
 * One WebSocket to one gateway, shared by every task subscription of the page or process.
 *
 * Subscriptions are reference-counted per task: however many listeners a task has, the server
 * sees one `subscribe`, and the last one leaving sends `unsubscribe`. A dropped socket is reopened
 * with jittered exponential backoff, and each task resumes from the highest `tabs` revision it saw,
 * so listeners get exactly the missed changes, once, as a `reconnect` refresh. Nothing polls.
 */
export class TabmeshConnection {
  private readonly events = new Emitter<ConnectionEvents>();
  private readonly entries = new Map<string, TaskEntry>();
  private readonly backoff: BackoffOptions;
  private readonly WebSocketImpl: WebSocketConstructor;
  private socket: WebSocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private resubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private resubscribeAttempt = 0;
  private attempt = 0;
  private everOpened = false;
  private disposed = false;
  private current: ConnectionStateEvent = { state: ConnectionState.Closed, attempt: 0, delayMs: null, retryAt: null };

  /** Every reconnect delay computed, in order: what the backoff actually chose. */
  readonly reconnectDelays: number[] = [];
  /** Counters for tests and diagnostics. */
  readonly stats = { socketsOpened: 0, subscribeFrames: 0, unsubscribeFrames: 0, framesReceived: 0 };

  constructor(private readonly opts: ConnectionOptions) {
    this.backoff = { ...DefaultBackoff, ...opts.backoff };
    this.WebSocketImpl = opts.WebSocket ?? defaultWebSocket();
  }

  get state(): ConnectionStateEvent {
    return this.current;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Tasks with at least one subscriber. */
  get subscribedTasks(): number {
    return this.entries.size;
  }

  on<K extends keyof ConnectionEvents>(type: K, listener: (event: ConnectionEvents[K]) => void): () => void {
    return this.events.on(type, listener);
  }

  /** Opens the socket now instead of at the first subscribe. Idempotent. */
  connect(): void {
    if (this.disposed || this.socket || this.timer) return;
    this.open();
  }

  /** Skips the rest of a backoff wait (a "retry now" button, or the browser coming online). */
  reconnectNow(): void {
    if (this.disposed || this.socket) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.open();
  }

  /**
   * Subscribes `listener` to a task. It is called with the current view and a Refresh: first a
   * `bootstrap` (at once, if the task is already known on this connection), then every change.
   */
  subscribe(org: string, task: string, listener: TaskListener): TaskSubscription {
    if (this.disposed) throw new Error('TabmeshConnection: subscribe after dispose');
    parse(OrgIdSchema, org, 'org');
    parse(TaskIdSchema, task, 'task');
    const key = entryKey(org, task);
    let entry = this.entries.get(key);
    const isNew = !entry;
    if (!entry) {
      entry = new TaskEntry(org, task, (error) => this.events.emit('listenerError', { org, task, error }));
      this.entries.set(key, entry);
    }
    entry.listeners.add(listener);
    if (isNew) {
      if (this.socket?.readyState === SocketOpen) this.send(entry.subscribeFrame());
      else this.connect();
    } else {
      const e = entry;
      // Asynchronously, like every other call: the caller has its handle before the first refresh.
      queueMicrotask(() => {
        if (e.listeners.has(listener) && this.entries.get(key) === e) e.greet(listener);
      });
    }
    let active = true;
    const self = this;
    return {
      org,
      task,
      get view() {
        return entry.view;
      },
      unsubscribe() {
        if (!active) return;
        active = false;
        self.release(key, entry, listener);
      },
    };
  }

  /** The current view of a subscribed task. */
  view(org: string, task: string): TaskView | undefined {
    return this.entries.get(entryKey(org, task))?.view;
  }

  /** Closes the socket, cancels any reconnect, drops every subscription and listener. Final. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
    this.timer = null;
    this.resubscribeTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      detach(socket);
      try {
        socket.close(1000, 'client disposed');
      } catch {
        // already closing
      }
    }
    this.entries.clear();
    this.setState({ state: ConnectionState.Closed, attempt: this.attempt, delayMs: null, retryAt: null });
    this.events.clear();
  }

  private release(key: string, entry: TaskEntry, listener: TaskListener): void {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0 || this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    if (this.socket?.readyState === SocketOpen) this.send({ op: 'unsubscribe', org: entry.org, task: entry.task });
  }

  private open(): void {
    this.timer = null;
    if (!this.everOpened && this.attempt === 0) {
      this.setState({ state: ConnectionState.Connecting, attempt: 0, delayMs: null, retryAt: null });
    }
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      if (this.socket !== ws) return;
      this.attempt = 0;
      this.everOpened = true;
      this.stats.socketsOpened++;
      this.setState({ state: ConnectionState.Open, attempt: 0, delayMs: null, retryAt: null });
      for (const entry of this.entries.values()) this.send(entry.subscribeFrame());
    };
    ws.onmessage = (event) => {
      if (this.socket === ws) this.receive(event.data);
    };
    ws.onclose = () => {
      if (this.socket !== ws) return;
      detach(ws);
      this.socket = null;
      if (!this.disposed) this.scheduleReconnect();
    };
    // A failed socket also closes; the reconnect happens there.
    ws.onerror = () => {};
  }

  private scheduleReconnect(): void {
    const delayMs = backoffDelay(this.attempt, this.backoff, this.opts.random);
    this.attempt++;
    this.reconnectDelays.push(delayMs);
    this.timer = setTimeout(() => this.open(), delayMs);
    this.setState({ state: ConnectionState.Reconnecting, attempt: this.attempt, delayMs, retryAt: Date.now() + delayMs });
  }

  private scheduleResubscribe(): void {
    if (this.resubscribeTimer || this.disposed) return;
    const delayMs = backoffDelay(this.resubscribeAttempt++, this.backoff, this.opts.random);
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = null;
      if (this.socket?.readyState !== SocketOpen) return; // a new socket subscribes everything anyway
      for (const entry of this.entries.values()) if (!entry.live) this.send(entry.subscribeFrame());
    }, delayMs);
  }

  private send(frame: ClientFrame): void {
    const text = encodeText(ClientFrameSchema, frame, 'client frame');
    if (frame.op === 'subscribe') this.stats.subscribeFrames++;
    else this.stats.unsubscribeFrames++;
    this.socket?.send(text);
  }

  private receive(data: unknown): void {
    this.stats.framesReceived++;
    if (typeof data !== 'string') {
      this.events.emit('invalidFrame', { data: String(data), reason: 'binary frame; the gateway sends text' });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      this.events.emit('invalidFrame', { data, reason: 'not JSON' });
      return;
    }
    const parsed = ServerFrameSchema.safeParse(raw);
    if (!parsed.success) {
      this.events.emit('invalidFrame', { data, reason: describeZodError(parsed.error) });
      return;
    }
    const frame = parsed.data;
    switch (frame.type) {
      case 'snapshot':
        this.resubscribeAttempt = 0;
        this.entries.get(entryKey(frame.org, frame.task))?.onSnapshot(frame);
        return;
      case 'tab':
        this.entries.get(entryKey(frame.tab.org, frame.tab.task))?.onTab(frame.tab);
        return;
      case 'task':
        this.entries.get(entryKey(frame.task.org, frame.task.task))?.onTask(frame.task);
        return;
      case 'error':
        this.events.emit('serverError', frame);
        // The gateway could not load a task ("subscribe again"): retry the subscriptions still waiting.
        if (frame.code === ErrorCode.Unavailable) this.scheduleResubscribe();
        return;
    }
  }

  private setState(next: ConnectionStateEvent): void {
    this.current = next;
    this.events.emit('state', next);
  }
}

function detach(ws: WebSocketLike): void {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
}
