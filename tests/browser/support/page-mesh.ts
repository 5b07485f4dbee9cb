import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setup, type TabmeshMesh } from '@tabmesh/harness';
import { SimProvider } from '@tabmesh/providers';
import { type Browser, chromium } from 'playwright-core';
import { GatedProvider } from './gated-provider.js';

export const ChromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(ChromiumPath);
export const chromiumMissing = `the browser tests need Chromium: ${ChromiumPath} is missing (install it with \`bash scripts/setup.sh --browser\`)`;

export const ResultsDir = join(process.cwd(), 'test-results', 'browser');

/** Debian's chromium, headless; never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ChromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** nats-server, the three services on a gated sim provider, and a gateway serving the page. */
export class PageMesh {
  private constructor(readonly mesh: TabmeshMesh<GatedProvider>) {}

  /** `env` reaches the mesh's config and the gateway (TABMESH_JWT_SECRET, say). */
  static async start(env: Record<string, string> = {}): Promise<PageMesh> {
    mkdirSync(ResultsDir, { recursive: true });
    const provider = new GatedProvider(new SimProvider({ provisionMs: 150, sessionMs: 60, failRate: 0 }));
    // Jobs held at the gate must not be redelivered while a test looks at them.
    return new PageMesh(
      await setup({ provider, services: { gateway: 1 }, env: { TABMESH_ACK_WAIT_MS: '30000', ...env } }),
    );
  }

  get provider(): GatedProvider {
    return this.mesh.provider;
  }

  get url(): string {
    return this.mesh.gatewayUrls().http;
  }

  pageUrl(org: string, task: string): string {
    return `${this.url}/?org=${encodeURIComponent(org)}&task=${encodeURIComponent(task)}`;
  }

  async stop(): Promise<void> {
    this.provider.release();
    await this.mesh.stop();
  }
}
