import {
  type ClientFrame,
  ClientFrameSchema,
  describeZodError,
  ErrorCode,
  type ErrorFrame,
  encodeText,
  OrgIdSchema,
  parse,
  ServerFrameSchema,
  TaskIdSchema,
} from '@tabmesh/contracts';
import { type BackoffOptions, backoffDelay, DefaultBackoff } from './backoff.js';
import { Emitter } from './emitter.js';
import {
  defaultWebSocket,
  refusedStatus,
  SocketOpen,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.js';
import { TaskEntry, type TaskListener } from './task-entry.js';
import type { TaskView } from './task-view.js';
import { readToken, type TokenSource, withAccessToken } from './token.js';

export const ConnectionState = {
  /** The first socket is being opened. */
  Connecting: 'connecting',
  Open: 'open',
  /** The socket dropped (or never opened); waiting `delayMs`, then trying again. */
  Reconnecting: 'reconnecting',
  /** Not started yet, or disposed. */
  Closed: 'closed',
  /**
   * The gateway refused the token and the token source has no other one: no more attempts until
   * `setToken()` or `reconnectNow()`. `auth` on the state event says why.
   */
  Unauthenticated: 'unauthenticated',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/**
 * Why a connection is `unauthenticated`: `expired` when the gateway closed an open socket because
 * its token expired (close code 4401), `refused` when the upgrade itself was refused (HTTP 401).
 */
export const AuthFailureReason = { Expired: 'expired', Refused: 'refused' } as const;
export type AuthFailureReason = (typeof AuthFailureReason)[keyof typeof AuthFailureReason];

export type AuthFailure = {
  reason: AuthFailureReason;
  /** False when no token was sent at all (a page opened without one): "not signed in". */
  hadToken: boolean;
};

/** The close code the gateway uses when it closes a socket whose token has expired. */
export const TokenExpiredCloseCode = 4401;

export type ConnectionStateEvent = {
  state: ConnectionState;
  /** Failed attempts since the socket was last open. */
  attempt: number;
  /** For `reconnecting`: the wait before the next attempt, and when it ends (epoch ms). */
  delayMs: number | null;
  retryAt: number | null;
  /** For `unauthenticated`: what was refused; null in every other state. */
  auth: AuthFailure | null;
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
  /**
   * The bearer token, sent as the `access_token` query parameter of the upgrade URL (browsers
   * cannot set headers on a WebSocket). A provider is called before every connect and reconnect.
   */
  token?: TokenSource;
  /**
   * Asks the gateway whether `token` is accepted (over HTTP: resolve `false` on a 401, `true` on
   * any other answer, `null` when it cannot tell). A browser's WebSocket reports a refused upgrade
   * exactly like an unreachable gateway (a close without open), so without this check only a 4401
   * close, or a socket that reports the 401 status (the `ws` package does), counts as refused;
   * other failed upgrades are retried with backoff, as for an outage.
   */
  verifyToken?: (token: string | null) => Promise<boolean | null>;
  /** Attempts in a row that never open before `verifyToken` is asked (then after each one). Default 1. */
  refusalLimit?: number;
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
 *
 * A refused token does not make it retry forever: on a 4401 close or a refused upgrade the token
 * source is asked again; a different token is tried (with the usual backoff), the same one puts the
 * connection in `unauthenticated` until `setToken()` or `reconnectNow()`. Subscriptions are kept
 * meanwhile and resume from their last revision once a token is accepted.
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
  private tokenSource: TokenSource | undefined;
  /** Attempts in a row whose socket never opened. */
  private unopened = 0;
  /** An awaited token or token check; bumped to make a late answer a no-op. */
  private pending: number | null = null;
  private pendingSeq = 0;
  private current: ConnectionStateEvent = {
    state: ConnectionState.Closed,
    attempt: 0,
    delayMs: null,
    retryAt: null,
    auth: null,
  };

  /** Every reconnect delay computed, in order: what the backoff actually chose. */
  readonly reconnectDelays: number[] = [];
  /** Counters for tests and diagnostics. */
  readonly stats = { socketsOpened: 0, subscribeFrames: 0, unsubscribeFrames: 0, framesReceived: 0 };

  constructor(private readonly opts: ConnectionOptions) {
    this.backoff = { ...DefaultBackoff, ...opts.backoff };
    this.WebSocketImpl = opts.WebSocket ?? defaultWebSocket();
    this.tokenSource = opts.token;
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

  /** Opens the socket now instead of at the first subscribe. Idempotent; stays put while `unauthenticated`. */
  connect(): void {
    if (this.disposed || this.socket || this.timer || this.pending !== null) return;
    if (this.current.state === ConnectionState.Unauthenticated) return;
    this.open();
  }

  /**
   * Skips the rest of a backoff wait (a "retry now" button, or the browser coming online), and
   * leaves `unauthenticated` to try the token source once more.
   */
  reconnectNow(): void {
    if (this.disposed || this.socket || this.pending !== null) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.current.state === ConnectionState.Unauthenticated) {
      this.attempt = 0;
      this.setState({ state: ConnectionState.Connecting, attempt: 0, delayMs: null, retryAt: null, auth: null });
    }
    this.open();
  }

  /**
   * Replaces the token source (a new sign-in). An open socket is kept (the gateway closes it when
   * its old token expires); a waiting or `unauthenticated` connection tries the new token at once.
   */
  setToken(token: TokenSource | undefined): void {
    this.tokenSource = token;
    this.unopened = 0;
    if (this.disposed || this.socket) return;
    if (this.pending !== null) {
      // An answer for the old token is on its way: drop it and start over with the new one.
      this.pending = null;
      this.pendingSeq++;
    }
    this.reconnectNow();
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
    this.pending = null;
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
    this.setState({ state: ConnectionState.Closed, attempt: this.attempt, delayMs: null, retryAt: null, auth: null });
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
    if (!this.everOpened && this.attempt === 0 && this.current.state !== ConnectionState.Connecting) {
      this.setState({ state: ConnectionState.Connecting, attempt: 0, delayMs: null, retryAt: null, auth: null });
    }
    this.withToken((token) => this.dial(token));
  }

  /**
   * Runs `next` with the current token: in this tick for a fixed token or a synchronous provider,
   * else when the provider's promise settles (unless dispose or setToken came first). A provider
   * that fails counts as a failed attempt.
   */
  private withToken(next: (token: string | null) => void): void {
    let value: string | null | Promise<string | null>;
    try {
      value = readToken(this.tokenSource);
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (!(value instanceof Promise)) {
      next(value);
      return;
    }
    this.await(value, next, () => this.scheduleReconnect());
  }

  private await<T>(promise: Promise<T>, next: (value: T) => void, failed: () => void): void {
    const seq = ++this.pendingSeq;
    this.pending = seq;
    const settle = (run: () => void) => {
      if (this.pending !== seq || this.disposed) return;
      this.pending = null;
      run();
    };
    promise.then(
      (value) => settle(() => next(value)),
      () => settle(failed),
    );
  }

  private dial(token: string | null): void {
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketImpl(token ? withAccessToken(this.opts.url, token) : this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    let opened = false;
    let status: number | null = null;
    ws.onopen = () => {
      if (this.socket !== ws) return;
      opened = true;
      this.attempt = 0;
      this.unopened = 0;
      this.everOpened = true;
      this.stats.socketsOpened++;
      this.setState({ state: ConnectionState.Open, attempt: 0, delayMs: null, retryAt: null, auth: null });
      for (const entry of this.entries.values()) this.send(entry.subscribeFrame());
    };
    ws.onmessage = (event) => {
      if (this.socket === ws) this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      detach(ws);
      this.socket = null;
      if (this.disposed) return;
      if (event.code === TokenExpiredCloseCode) return this.refused(AuthFailureReason.Expired, token);
      if (opened) return this.scheduleReconnect();
      this.unopened++;
      if (status === 401) return this.refused(AuthFailureReason.Refused, token);
      const verify = this.opts.verifyToken;
      if (!verify || this.unopened < (this.opts.refusalLimit ?? 1)) return this.scheduleReconnect();
      let check: Promise<boolean | null>;
      try {
        check = verify(token);
      } catch {
        return this.scheduleReconnect();
      }
      this.await(
        check,
        (accepted) => (accepted === false ? this.refused(AuthFailureReason.Refused, token) : this.scheduleReconnect()),
        () => this.scheduleReconnect(),
      );
    };
    // A failed socket also closes; the reconnect happens there. What the error tells is kept for it.
    ws.onerror = (event) => {
      status = refusedStatus(event) ?? status;
    };
  }

  /**
   * `token` was refused. The source may have a fresh one by now (a refreshed session, another
   * tab's sign-in): try that; the same token again would only be refused again.
   */
  private refused(reason: AuthFailureReason, token: string | null): void {
    this.withToken((fresh) => {
      if (fresh !== token) {
        this.scheduleReconnect();
        return;
      }
      // The next failed attempt after a manual retry is checked at once, not after the limit again.
      this.unopened = Math.max(this.unopened, this.opts.refusalLimit ?? 1);
      this.setState({
        state: ConnectionState.Unauthenticated,
        attempt: this.attempt,
        delayMs: null,
        retryAt: null,
        auth: { reason, hadToken: token !== null },
      });
    });
  }

  private scheduleReconnect(): void {
    const delayMs = backoffDelay(this.attempt, this.backoff, this.opts.random);
    this.attempt++;
    this.reconnectDelays.push(delayMs);
    this.timer = setTimeout(() => this.open(), delayMs);
    this.setState({
      state: ConnectionState.Reconnecting,
      attempt: this.attempt,
      delayMs,
      retryAt: Date.now() + delayMs,
      auth: null,
    });
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
