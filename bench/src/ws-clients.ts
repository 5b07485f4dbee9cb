import WebSocket from 'ws';
import { FanoutMark } from './floor-names.js';
import { epochMs, sleep } from './stats.js';

const markBytes = Buffer.from(FanoutMark);

/** Reads the `fanout:<epoch ms>:` stamp out of a frame without parsing the JSON. */
export function readStamp(data: Buffer): number | null {
  const at = data.indexOf(markBytes);
  if (at < 0) return null;
  const from = at + markBytes.length;
  const end = data.indexOf(0x3a /* : */, from);
  if (end < 0) return null;
  const t = Number(data.toString('latin1', from, end));
  return Number.isFinite(t) ? t : null;
}

/** Collects the delay of every stamped frame any client receives. */
export class DelayRecorder {
  private samples: number[] = [];
  count = 0;
  record(data: Buffer): void {
    const t = readStamp(data);
    if (t === null) return;
    this.samples.push(epochMs() - t);
    this.count++;
  }
  take(): number[] {
    const s = this.samples;
    this.samples = [];
    this.count = 0;
    return s;
  }
}

export type ClientPool = { sockets: WebSocket[]; close: () => Promise<void> };

/**
 * Opens `n` WebSocket clients, `parallel` handshakes at a time. `onOpen` may send a frame (a
 * subscribe); `onMessage` sees every frame.
 */
export async function openClients(
  url: string,
  n: number,
  handlers: { onOpen?: (ws: WebSocket, i: number) => void; onMessage: (data: Buffer, i: number) => void },
  parallel = 200,
): Promise<ClientPool> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('message', (data: Buffer) => handlers.onMessage(data, i));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.on('error', () => undefined);
      handlers.onOpen?.(ws, i);
      sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return {
    sockets,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await sleep(200);
    },
  };
}
