import { TabmeshClient, TabmeshConnection } from '@tabmesh/client';
import { WorkbenchApp } from './app.js';

/**
 * Entry point of the workbench page. The gateway fills in its WebSocket port; `?ws=` overrides the
 * whole URL (behind a proxy that puts both APIs on one origin, say).
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

const http = new TabmeshClient({ baseUrl: location.origin });
const conn = new TabmeshConnection({ url: wsUrl() });
const app = new WorkbenchApp({ http, conn });
conn.connect();
// Back online: skip the rest of a backoff wait.
addEventListener('online', () => conn.reconnectNow());

const params = new URLSearchParams(location.search);
app.openTask(params.get('org') ?? 'acme', params.get('task') ?? 'demo');
