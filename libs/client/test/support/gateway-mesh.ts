import { startGateway, type GatewayHandle, type GatewayOptions } from '@tabmesh/gateway';
import { TestMesh, type MeshOptions } from '@tabmesh/mesh-tests';
import { createLogger } from '@tabmesh/runtime';
import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import {
  TabmeshClient,
  TabmeshConnection,
  type ConnectionOptions,
  type HttpClientOptions,
  type WebSocketConstructor,
} from '../../src/index.js';

export type TokenClaims = { orgs?: string[]; ttlSec?: number };

/** An HS256 token as `pnpm token` mints it (`sub`, `orgs`, `iat`, `exp`), signed with `secret`. */
export async function mintToken(secret: string, claims: TokenClaims = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ orgs: claims.orgs ?? ['*'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('client-tests')
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlSec ?? 3600))
    .sign(new TextEncoder().encode(secret));
}

/** Node 20 has no stable global WebSocket; `ws` has the same surface. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/**
 * nats-server, the three back-end services and a gateway on ephemeral ports, all in this process.
 * The gateway verifies HS256 tokens with a secret of this mesh; its clients carry one for all orgs.
 */
export class GatewayMesh {
  private readonly connections: TabmeshConnection[] = [];
  private allOrgs: Promise<string> | null = null;

  private constructor(
    readonly mesh: TestMesh,
    readonly gateway: GatewayHandle,
    private readonly secret: string,
  ) {}

  static async start(opts: MeshOptions = {}, gatewayOptions: GatewayOptions = {}): Promise<GatewayMesh> {
    const secret = randomBytes(32).toString('base64url');
    const mesh = await TestMesh.start({ ...opts, env: { TABMESH_JWT_SECRET: secret, ...opts.env } });
    try {
      const gateway = await startGateway(mesh.config, createLogger('gateway', mesh.config.LOG_LEVEL), gatewayOptions);
      return new GatewayMesh(mesh, gateway, secret);
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

  /** A token this gateway accepts: all orgs unless `orgs` says otherwise, valid `ttlSec` (1 h). */
  mintToken(claims: TokenClaims = {}): Promise<string> {
    return mintToken(this.secret, claims);
  }

  /** The mesh's all-orgs token, minted once. */
  private token = (): Promise<string> => (this.allOrgs ??= this.mintToken());

  http(opts: Partial<HttpClientOptions> = {}): TabmeshClient {
    return new TabmeshClient({ baseUrl: this.httpUrl, token: this.token, ...opts });
  }

  /** A connection this mesh disposes on stop. */
  connection(opts: Partial<ConnectionOptions> = {}): TabmeshConnection {
    const c = new TabmeshConnection({ url: this.wsUrl, WebSocket: NodeWebSocket, token: this.token, ...opts });
    this.connections.push(c);
    return c;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.dispose();
    await this.gateway.stop();
    await this.mesh.stop();
  }
}
