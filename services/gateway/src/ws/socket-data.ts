import type { WebSocket } from 'uWebSockets.js';
import type { TaskCache } from '../feed/task-cache.js';

/** One task subscription of a socket; `token` tells a stale load callback from the current request. */
export type SocketSubscription = { token: number; cache: TaskCache };

/** State uWS keeps per socket. */
export type SocketData = {
  id: number;
  open: boolean;
  /** Keyed by topic; includes subscriptions still waiting for their task to load. */
  subscriptions: Map<string, SocketSubscription>;
  /** Set when the socket is closed for backpressure, so its close is counted as a drop. */
  dropped: boolean;
};

export type Socket = WebSocket<SocketData>;
