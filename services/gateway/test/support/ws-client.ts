import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** The server answered the upgrade with a plain HTTP response instead of switching protocols. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string | string[] | undefined> = {},
  ) {
    super(`upgrade refused: ${status}`);
  }
}

/**
 * A minimal RFC 6455 client for tests. Hand-written rather than a `ws` dependency because the tests
 * need raw control: pausing reads (to build server backpressure) and sending binary or oversize frames.
 */
export class TestWsClient {
  readonly messages: string[] = [];
  closed = false;
  closeCode: number | null = null;
  closeReason = '';
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    head: Buffer,
  ) {
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      });
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (head.length) this.onData(head);
  }

  /** Opens a socket; a refused upgrade rejects with UpgradeRefused (status and body). */
  static connect(url: string, headers: Record<string, string> = {}): Promise<TestWsClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const req = request({
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: {
          ...headers,
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        },
      });
      req.once('upgrade', (_res, socket, head) => resolve(new TestWsClient(socket, head)));
      req.once('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body, res.headers)));
        res.once('error', () => reject(new UpgradeRefused(res.statusCode ?? 0, body, res.headers)));
      });
      req.once('error', reject);
      req.end();
    });
  }

  /** Parsed JSON of every text message received so far. */
  get frames(): unknown[] {
    return this.messages.map((m) => JSON.parse(m) as unknown);
  }

  send(data: string | object): void {
    this.sendFrame(Op.Text, Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)));
  }

  sendBinary(data: Uint8Array): void {
    this.sendFrame(Op.Binary, Buffer.from(data));
  }

  /** Stops reading from the socket, so the server's send buffer fills up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Resolves once at least `n` messages have arrived. */
  async waitForCount(n: number, timeoutMs = 5000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      if (this.closed) throw new Error(`socket closed after ${this.messages.length} of ${n} messages`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out with ${this.messages.length} of ${n} messages: ${this.messages.join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.slice(0, n);
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return Promise.race([
      this.closedPromise,
      new Promise<void>((_, reject) => setTimeout(() => reject(new Error('socket did not close')), timeoutMs)),
    ]);
  }

  close(): void {
    if (this.closed) return;
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000);
    this.sendFrame(Op.Close, code);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const len = payload.length;
    const header =
      len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (len >= 126 && len < 65536) {
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(len, 2);
    } else if (len >= 65536) {
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(len), 2);
    }
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0]!;
      const b1 = this.buffer[1]!;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + len) return;
      const payload = this.buffer.subarray(offset, offset + len);
      this.buffer = this.buffer.subarray(offset + len);
      this.onFrame(b0 & 0x80, b0 & 0x0f, Buffer.from(payload));
    }
  }

  private onFrame(fin: number, opcode: number, payload: Buffer): void {
    if (opcode === Op.Ping) {
      this.sendFrame(Op.Pong, payload);
      return;
    }
    if (opcode === Op.Pong) return;
    if (opcode === Op.Close) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeReason = payload.subarray(2).toString('utf8');
      this.socket.end();
      return;
    }
    this.fragments.push(payload);
    if (!fin) return;
    const message = Buffer.concat(this.fragments).toString('utf8');
    this.fragments = [];
    this.messages.push(message);
    this.notify();
  }
}
