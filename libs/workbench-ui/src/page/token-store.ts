/** Where the page keeps its token: per browser tab, gone when the tab closes. */
export const TokenStorageKey = 'tabmesh.token';

/**
 * The page's bearer token. It arrives in the URL fragment (`#token=…`, printed by `pnpm start` and
 * `pnpm token`): a fragment is never sent to a server or put in a Referer. It is moved to session
 * storage at once and cut from the address bar, so a copied link does not carry it.
 */
export class TokenStore {
  /** Used when session storage is unavailable (storage disabled, an opaque origin). */
  private memory: string | null = null;

  /** Takes `token` from the fragment, if there is one; returns whether it did. Other fragment parts stay. */
  takeFromFragment(): boolean {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    const token = params.get('token');
    if (token === null) return false;
    params.delete('token');
    const url = new URL(location.href);
    url.hash = params.toString();
    history.replaceState(history.state, '', url);
    if (token) this.set(token);
    return token.length > 0;
  }

  get(): string | null {
    try {
      return sessionStorage.getItem(TokenStorageKey) ?? this.memory;
    } catch {
      return this.memory;
    }
  }

  set(token: string): void {
    this.memory = token;
    try {
      sessionStorage.setItem(TokenStorageKey, token);
    } catch {
      // kept in memory for this page's life
    }
  }
}

/**
 * Whether a JWT's `exp` has passed, read without verifying it (only the gateway can): it picks the
 * words of the sign-in notice, never whether a request is made. Null when the token is not a JWT.
 */
export function tokenExpired(token: string, now = Date.now()): boolean | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 <= now : null;
  } catch {
    return null;
  }
}
