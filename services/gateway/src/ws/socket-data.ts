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
  /** Send-buffer bytes at the last sample; non-zero at an abnormal close means a backpressure drop. */
  buffered: number;
};

export type Socket = WebSocket<SocketData>;
