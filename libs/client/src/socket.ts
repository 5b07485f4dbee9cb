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

/**
 * The HTTP status of a refused upgrade, when the socket tells it: the `ws` package reports
 * "Unexpected server response: 401" in its error event. A browser's WebSocket never does.
 */
export function refusedStatus(event: unknown): number | null {
  const e = event as { message?: unknown; error?: { message?: unknown } } | null;
  const text =
    typeof e?.message === 'string' ? e.message : typeof e?.error?.message === 'string' ? e.error.message : '';
  const match = /Unexpected server response: (\d{3})/.exec(text);
  return match ? Number(match[1]) : null;
}
