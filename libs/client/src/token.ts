/**
 * A function that returns the bearer token to send now. It is called before every HTTP request
 * and before every (re)connect, so it may read a store that changes (session storage) or refresh
 * a token that is about to expire. `null`, `undefined` or `''` means "no token": nothing is sent,
 * which works only against a gateway started with `TABMESH_AUTH=off`.
 */
export type TokenProvider = () => string | null | undefined | Promise<string | null | undefined>;

/** A fixed token, or a provider asked each time one is needed. */
export type TokenSource = string | TokenProvider;

/**
 * The current token, synchronously when the source allows it: a connection then opens its socket
 * in the same tick (as it did before tokens), and only a provider that returns a promise is awaited.
 */
export function readToken(source: TokenSource | undefined): string | null | Promise<string | null> {
  const value = typeof source === 'function' ? source() : source;
  if (isPromise(value)) return Promise.resolve(value).then((v) => v || null);
  return value || null;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * Adds `access_token` to a WebSocket URL (browsers cannot set headers on the upgrade), keeping the
 * rest of its query. URLSearchParams encodes the value.
 */
export function withAccessToken(url: string, token: string): string {
  const u = new URL(url);
  u.searchParams.set('access_token', token);
  return u.toString();
}
