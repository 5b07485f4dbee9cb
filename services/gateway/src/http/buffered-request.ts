/**
 * The Request hono is handed by the uWS server: method, URL and headers as received, and a body
 * already read in full (bounded by the server). Reading it as text or JSON is a decode, with no web
 * stream in between; what needs a real fetch Request (a stream body, form data, `clone`) gets one,
 * built on first use.
 */
export class BufferedRequest {
  #native: Request | undefined;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Headers,
    private readonly bytes: Uint8Array<ArrayBuffer> | null,
  ) {}

  /** The request as a fetch Request (same method, URL, headers and body). */
  private native(): Request {
    this.#native ??= new Request(this.url, {
      method: this.method,
      headers: this.headers,
      ...(this.bytes && this.method !== 'GET' && this.method !== 'HEAD' ? { body: this.bytes } : {}),
    });
    return this.#native;
  }

  text(): Promise<string> {
    return Promise.resolve(
      this.bytes ? Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8') : '',
    );
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.bytes;
    return Promise.resolve(
      b ? (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer) : new ArrayBuffer(0),
    );
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.native().body;
  }
  get bodyUsed(): boolean {
    return this.#native?.bodyUsed ?? false;
  }
  get signal(): AbortSignal {
    return this.native().signal;
  }
  blob(): Promise<Blob> {
    return this.native().blob();
  }
  formData(): Promise<FormData> {
    return this.native().formData();
  }
  clone(): Request {
    return this.native().clone();
  }

  /** For hono, whose types ask for a Request: this class answers every member it reads. */
  asRequest(): Request {
    return this as unknown as Request;
  }
}
