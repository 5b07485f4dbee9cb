/**
 * What the uWS server writes for a response hono made: its status, headers and a body already in
 * memory. Node 20's fetch Response turns every body into a web stream and reading it back costs
 * more than the rest of a request; @hono/node-server avoids that on Node's http server with the
 * same idea (a Response that keeps its parts and builds the real one only when asked).
 */
export type KeptResponse = { status: number; headers: Headers; body: string | Uint8Array | null };

const NativeResponse = globalThis.Response;
const kept = Symbol('kept');

/**
 * A Response that keeps a string or byte body (what hono's `c.json`, `c.text`, `c.html` and `c.body`
 * give it) as it was handed over; any other use of it (reading the body, a stream body, `clone`)
 * builds the native Response once and goes on with that.
 */
export class LightResponse {
  #body: BodyInit | null | undefined;
  #init: ResponseInit | undefined;
  #native: Response | undefined;
  [kept]: KeptResponse | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this.#body = body;
    this.#init = init;
    if (body == null || typeof body === 'string' || body instanceof Uint8Array) {
      const headers = init?.headers instanceof Headers ? init.headers : new Headers(init?.headers);
      // The default the fetch Response gives a string body.
      if (typeof body === 'string' && !headers.has('content-type'))
        headers.set('content-type', 'text/plain;charset=UTF-8');
      this[kept] = { status: init?.status ?? 200, headers, body: body ?? null };
    }
  }

  /** The native Response, built on first use from what was kept (headers as changed since). */
  private native(): Response {
    if (!this.#native) {
      const k = this[kept];
      this.#native = new NativeResponse(
        this.#body,
        k ? { ...this.#init, status: k.status, headers: k.headers } : this.#init,
      );
      this[kept] = undefined;
    }
    return this.#native;
  }

  get status(): number {
    return this[kept]?.status ?? this.native().status;
  }
  get headers(): Headers {
    return this[kept]?.headers ?? this.native().headers;
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** A native Response is an instance too, so `instanceof Response` holds for both once installed. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof NativeResponse || (typeof value === 'object' && value !== null && kept in value);
  }
}

for (const name of ['body', 'bodyUsed', 'redirected', 'statusText', 'type', 'url'] as const) {
  Object.defineProperty(LightResponse.prototype, name, {
    get(this: LightResponse) {
      return (this as unknown as { native(): Response }).native()[name];
    },
  });
}
for (const name of ['arrayBuffer', 'blob', 'clone', 'formData', 'json', 'text'] as const) {
  Object.defineProperty(LightResponse.prototype, name, {
    value(this: LightResponse) {
      const native = (this as unknown as { native(): Response }).native();
      return (native[name] as () => unknown).call(native);
    },
  });
}
// Static helpers (Response.json, Response.redirect, Response.error) stay the native ones.
Object.setPrototypeOf(LightResponse, NativeResponse);
Object.setPrototypeOf(LightResponse.prototype, NativeResponse.prototype);

/** What a LightResponse kept, or null for a native one (or one whose body has been used). */
export function keptParts(res: Response): KeptResponse | null {
  return (res as unknown as { [kept]?: KeptResponse })[kept] ?? null;
}

/**
 * Makes `new Response(...)` in this process a LightResponse, so hono's responses can be written
 * without a stream. Process-wide, as @hono/node-server does on Node's server; idempotent.
 */
export function installLightResponse(): void {
  if (globalThis.Response !== (LightResponse as unknown as typeof Response)) {
    Object.defineProperty(globalThis, 'Response', {
      value: LightResponse,
      writable: true,
      configurable: true,
    });
  }
}
