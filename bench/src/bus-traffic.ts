import { ServiceName } from '@tabmesh/testkit';

/** Messages and bytes a process kind moved over the bus: `in` it published, `out` delivered to it. */
export type BusTraffic = { inMsgs: number; outMsgs: number; inBytes: number; outBytes: number };

type Conn = { cid: number; name?: string; in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number };
/** Counters of every connection nats-server knows, by connection id. */
export type ConnzSnapshot = Map<number, Conn>;

const serviceNames: ReadonlySet<string> = new Set(Object.values(ServiceName));
/** Services name their connection after themselves; anything else (the bench's own, set-up ones) is `bench`. */
const kindOf = (name: string | undefined): string => (name && serviceNames.has(name) ? name : 'bench');

/**
 * Every connection's counters from `/connz`. `state=all` adds the server's ring of recently closed
 * connections with their final counters, so one that closes within a window still counts.
 */
export async function connz(monitorUrl: string): Promise<ConnzSnapshot> {
  const res = await fetch(`${monitorUrl}/connz?state=all&limit=1024`);
  if (!res.ok) throw new Error(`connz: HTTP ${res.status}`);
  const body = (await res.json()) as { total: number; connections: Conn[] };
  // More than a page would undercount silently; the bench's meshes have a few dozen connections.
  if (body.total > body.connections.length) throw new Error(`connz: ${body.total} connections, one page read`);
  return new Map(body.connections.map((c) => [c.cid, c]));
}

/** What each process kind moved between two snapshots, divided by `n` (tabs, requests). */
export function busPerRequest(before: ConnzSnapshot, after: ConnzSnapshot, n: number): Record<string, BusTraffic> {
  const out: Record<string, BusTraffic> = {};
  for (const [cid, c] of after) {
    const b = before.get(cid);
    const kind = kindOf(c.name);
    const t = out[kind] ?? { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
    out[kind] = t;
    t.inMsgs += c.in_msgs - (b?.in_msgs ?? 0);
    t.outMsgs += c.out_msgs - (b?.out_msgs ?? 0);
    t.inBytes += c.in_bytes - (b?.in_bytes ?? 0);
    t.outBytes += c.out_bytes - (b?.out_bytes ?? 0);
  }
  const round = (x: number, digits: number) => Math.round((x / n) * 10 ** digits) / 10 ** digits;
  for (const t of Object.values(out)) {
    t.inMsgs = round(t.inMsgs, 2);
    t.outMsgs = round(t.outMsgs, 2);
    t.inBytes = round(t.inBytes, 0);
    t.outBytes = round(t.outBytes, 0);
  }
  return out;
}

/** `{ "tab-registry": "10.7+16.6", … }`: messages per tab published + delivered, for a log line. */
export function msgsInOut(traffic: Record<string, BusTraffic>): Record<string, string> {
  return Object.fromEntries(Object.entries(traffic).map(([k, t]) => [k, `${t.inMsgs}+${t.outMsgs}`]));
}
