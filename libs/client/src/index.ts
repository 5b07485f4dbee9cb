export { ErrorCode, type ErrorInfo, type Tab, TabmeshError, type TaskStatus } from '@tabmesh/contracts';
export { type BackoffOptions, backoffCeiling, backoffDelay, DefaultBackoff } from './backoff.js';
export {
  type AuthFailure,
  AuthFailureReason,
  type ConnectionEvents,
  type ConnectionOptions,
  ConnectionState,
  type ConnectionStateEvent,
  TabmeshConnection,
  type TaskSubscription,
  TokenExpiredCloseCode,
} from './connection.js';
export { NetworkError, ProtocolError, TabmeshHttpError } from './errors.js';
export { type CreateTabOptions, type HttpClientOptions, TabmeshClient } from './http-client.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export { type Refresh, RefreshReason, type TaskListener } from './task-entry.js';
export { applySnapshot, applyTab, applyTask, emptyView, orderedTabs, type TaskView } from './task-view.js';
export { type TokenProvider, type TokenSource, withAccessToken } from './token.js';
