export { TabmeshClient, type HttpClientOptions, type CreateTabOptions } from './http-client.js';
export {
  TabmeshConnection,
  ConnectionState,
  AuthFailureReason,
  TokenExpiredCloseCode,
  type AuthFailure,
  type ConnectionOptions,
  type ConnectionEvents,
  type ConnectionStateEvent,
  type TaskSubscription,
} from './connection.js';
export { RefreshReason, type Refresh, type TaskListener } from './task-entry.js';
export { orderedTabs, emptyView, applySnapshot, applyTab, applyTask, type TaskView } from './task-view.js';
export { backoffDelay, backoffCeiling, DefaultBackoff, type BackoffOptions } from './backoff.js';
export { TabmeshHttpError, NetworkError, ProtocolError } from './errors.js';
export { withAccessToken, type TokenSource, type TokenProvider } from './token.js';
export type { WebSocketLike, WebSocketConstructor } from './socket.js';
export { TabmeshError, ErrorCode, type Tab, type TaskStatus, type ErrorInfo } from '@tabmesh/contracts';
