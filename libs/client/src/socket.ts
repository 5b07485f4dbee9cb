/**
 * The part of the WebSocket API the connection uses. The browser's WebSocket has it, and so does
 * the `ws` package's (Node 20 has no stable global WebSocket; pass `ws` there).
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** WebSocket.OPEN, the same in every implementation. */
export const SocketOpen = 1;

export function defaultWebSocket(): WebSocketConstructor {
  const ctor = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof ctor !== 'function') {
    throw new TypeError('no global WebSocket here (Node 20): pass the `WebSocket` option, e.g. the `ws` package');
  }
  return ctor as WebSocketConstructor;
}
