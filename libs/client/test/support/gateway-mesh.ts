import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { TestJwtSecret } from '@tabmesh/testkit';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import {
  type ConnectionOptions,
  type HttpClientOptions,
  TabmeshClient,
  TabmeshConnection,
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
 * The whole mesh with a gateway, in this process, and clients of it that are disposed with it.
 * The gateway verifies HS256 tokens with the test secret; its clients carry one for all orgs.
 */
export class GatewayMesh {
  private readonly connections: TabmeshConnection[] = [];
  private allOrgs: Promise<string> | null = null;

  private constructor(readonly mesh: TabmeshMesh) {}

  static async start(): Promise<GatewayMesh> {
    return new GatewayMesh(await setup({ services: { gateway: 1 } }));
  }

  get gateway(): TabmeshMesh['gateway'] {
    return this.mesh.gateway;
  }

  /** A token this gateway accepts: all orgs unless `orgs` says otherwise, valid `ttlSec` (1 h). */
  mintToken(claims: TokenClaims = {}): Promise<string> {
    return mintToken(TestJwtSecret, claims);
  }

  /** The mesh's all-orgs token, minted once. */
  private token = (): Promise<string> => (this.allOrgs ??= this.mintToken());

  get httpUrl(): string {
    return this.mesh.gatewayUrls().http;
  }

  /** The upgrade URL without a token: the connection adds its own. */
  get wsUrl(): string {
    return this.mesh.gatewayUrls().ws.split('?')[0]!;
  }

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
    await this.mesh.stop();
  }
}
