import type { ServiceProcess } from '@tabmesh/testkit';

/** HTTP and WebSocket addresses of a gateway process, from its ready line. */
export function gatewayUrls(gw: ServiceProcess): { http: string; ws: string } {
  const line = gw.readyLine;
  if (!line || typeof line.httpPort !== 'number' || typeof line.wsPort !== 'number') {
    throw new Error(`${gw.label} logged no ports on its ready line`);
  }
  return { http: `http://127.0.0.1:${line.httpPort}`, ws: `ws://127.0.0.1:${line.wsPort}/v1/ws` };
}
