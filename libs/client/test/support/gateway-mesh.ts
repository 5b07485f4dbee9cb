import { setup, type TabmeshMesh } from '@tabmesh/harness';
import WebSocket from 'ws';
import { TabmeshClient, TabmeshConnection, type ConnectionOptions, type WebSocketConstructor } from '../../src/index.js';

/** Node 20 has no stable global WebSocket; `ws` has the same surface. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/** The whole mesh with a gateway, in this process, and clients of it that are disposed with it. */
export class GatewayMesh {
  private readonly connections: TabmeshConnection[] = [];

  private constructor(readonly mesh: TabmeshMesh) {}

  static async start(): Promise<GatewayMesh> {
    return new GatewayMesh(await setup({ services: { gateway: 1 } }));
  }

  get gateway(): TabmeshMesh['gateway'] {
    return this.mesh.gateway;
  }

  http(): TabmeshClient {
    return new TabmeshClient({ baseUrl: this.mesh.gatewayUrls().http });
  }

  /** A connection this mesh disposes on stop. */
  connection(opts: Partial<ConnectionOptions> = {}): TabmeshConnection {
    const c = new TabmeshConnection({ url: this.mesh.gatewayUrls().ws, WebSocket: NodeWebSocket, ...opts });
    this.connections.push(c);
    return c;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.dispose();
    await this.mesh.stop();
  }
}
