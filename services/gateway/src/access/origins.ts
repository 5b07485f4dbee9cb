/** Bind addresses that are no origin a browser could have loaded a page from. */
const Wildcards = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * Which page origins may call the gateway (HTTP and WebSocket upgrade): its own, plus the configured
 * ones. A request without an `Origin` header (curl, services, the CLI) is not a browser page and passes.
 */
export class OriginPolicy {
  private readonly allowed = new Set<string>();

  constructor(
    private readonly host: string,
    extra: readonly string[],
  ) {
    for (const origin of extra) this.allowed.add(origin.toLowerCase());
  }

  /** Adds the gateway's own origins once its HTTP port is known (the workbench page is served from it). */
  addOwnOrigins(httpPort: number): void {
    const hosts = ['localhost', '127.0.0.1'];
    if (!Wildcards.has(this.host))
      hosts.push(this.host.includes(':') && !this.host.startsWith('[') ? `[${this.host}]` : this.host);
    // Through URL, so a default port is dropped as browsers drop it (`http://localhost`, not `:80`).
    for (const h of hosts) this.allowed.add(new URL(`http://${h}:${httpPort}`).origin.toLowerCase());
  }

  allows(origin: string | null | undefined): boolean {
    return !origin || this.allowed.has(origin.toLowerCase());
  }

  get origins(): string[] {
    return [...this.allowed];
  }
}
