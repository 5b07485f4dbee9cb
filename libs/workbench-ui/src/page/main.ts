import { TabmeshClient, TabmeshConnection } from '@tabmesh/client';
import { WorkbenchApp } from './app.js';
import { TokenStore } from './token-store.js';

/**
 * Entry point of the workbench page. The gateway fills in its WebSocket port; `?ws=` overrides the
 * whole URL (behind a proxy that puts both APIs on one origin, say). The token (`#token=`) goes to
 * both the HTTP client and the connection through one provider reading session storage.
 */
function wsUrl(): string {
  const params = new URLSearchParams(location.search);
  const override = params.get('ws');
  if (override) return override;
  const port = document.querySelector<HTMLMetaElement>('meta[name="tabmesh-ws-port"]')?.content ?? '';
  const url = new URL(location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (/^\d+$/.test(port)) url.port = port;
  url.pathname = '/v1/ws';
  url.search = '';
  url.hash = '';
  return url.toString();
}

// First, before anything can log or share the address: the token leaves the URL for session storage.
const tokens = new TokenStore();
tokens.takeFromFragment();
const token = () => tokens.get();

const http = new TabmeshClient({ baseUrl: location.origin, token });
const conn: TabmeshConnection = new TabmeshConnection({ url: wsUrl(), token, verifyToken: (t) => app.verifyToken(t) });
const app: WorkbenchApp = new WorkbenchApp({ http, conn, tokens });
conn.connect();
// Back online: skip the rest of a backoff wait.
addEventListener('online', () => conn.reconnectNow());
// The page's link opened again in this tab (a fresh token): only the fragment changes, no reload.
addEventListener('hashchange', () => {
  if (!tokens.takeFromFragment()) return;
  app.signedIn();
  conn.setToken(token);
});

const params = new URLSearchParams(location.search);
app.openTask(params.get('org') ?? 'acme', params.get('task') ?? 'demo');
