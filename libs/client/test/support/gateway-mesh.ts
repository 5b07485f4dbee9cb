import { startGateway, type GatewayHandle, type GatewayOptions } from '@tabmesh/gateway';
import { TestMesh, type MeshOptions } from '@tabmesh/mesh-tests';
import { createLogger } from '@tabmesh/runtime';
import WebSocket from 'ws';
import { TabmeshClient, TabmeshConnection, type ConnectionOptions, type WebSocketConstructor } from '../../src/index.js';

/** Node 20 has no stable global WebSocket; `ws` has the same surface. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/** nats-server, the three back-end services and a gateway on ephemeral ports, all in this process. */
export class GatewayMesh {
  private readonly connections: TabmeshConnection[] = [];

  private constructor(
    readonly mesh: TestMesh,
    readonly gateway: GatewayHandle,
  ) {}

  static async start(opts: MeshOptions = {}, gatewayOptions: GatewayOptions = {}): Promise<GatewayMesh> {
    const mesh = await TestMesh.start(opts);
    try {
      const gateway = await startGateway(mesh.config, createLogger('gateway', mesh.config.LOG_LEVEL), gatewayOptions);
      return new GatewayMesh(mesh, gateway);
    } catch (err) {
      await mesh.stop();
      throw err;
    }
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.gateway.httpPort}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.gateway.wsPort}/v1/ws`;
  }

  http(): TabmeshClient {
    return new TabmeshClient({ baseUrl: this.httpUrl });
  }

  /** A connection this mesh disposes on stop. */
  connection(opts: Partial<ConnectionOptions> = {}): TabmeshConnection {
    const c = new TabmeshConnection({ url: this.wsUrl, WebSocket: NodeWebSocket, ...opts });
    this.connections.push(c);
    return c;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.dispose();
    await this.gateway.stop();
    await this.mesh.stop();
  }
}
