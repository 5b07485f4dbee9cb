import type { WebSocket } from 'uWebSockets.js';
import type { Principal } from '../access/authenticator.js';
import type { TaskCache } from '../feed/task-cache.js';
import type { Bucket } from '../limits/token-bucket.js';

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
  /** Who opened it (verified at the upgrade); every subscribe is checked against its orgs. */
  principal: Principal;
  /** Whose budget it spends (GatewayLimits.callerKey); its socket slot is given back on close. */
  limitKey: string;
  /** The socket's own subscribe-frame budget; null when rate limits are off. */
  frameBucket: Bucket | null;
  /** Closes the socket when its token expires; cleared on close. */
  expiryTimer: NodeJS.Timeout | null;
};

export type Socket = WebSocket<SocketData>;
