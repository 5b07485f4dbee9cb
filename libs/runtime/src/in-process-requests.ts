/**
 * Requests a service answers for another one in the same process, without the bus: the mesh host
 * (`pnpm start`) hands the tab-registry's to the gateway, saving each create and close the request
 * hop through nats-server (docs/bench/README.md, eleventh round). Each side validates as it does on
 * the bus, and a service stopping stops answering here too, so callers fall back to the bus.
 */
export interface InProcessRequests {
  /** Whether `subject` is answered here now: false for other subjects and once the service stops. */
  serves(subject: string): boolean;
  /** The reply as it would cross the bus, `{ok:false, error}` included; rejects only when not served. */
  request(subject: string, request: unknown, correlationId: string): Promise<unknown>;
}
