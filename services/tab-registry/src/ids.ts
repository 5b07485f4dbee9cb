import { createHash, randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

/**
 * Cryptographic randomness drawn 4 KiB at a time: ulidx's default asks the OS for one byte per
 * character of every id (16 calls per tab), a measurable share of tab-registry's CPU under load.
 */
function pooledRandom(): () => number {
  let pool = randomBytes(4096);
  let at = 0;
  return () => {
    if (at >= pool.length) {
      pool = randomBytes(4096);
      at = 0;
    }
    return pool.readUInt8(at++) / 256;
  };
}

const ulid = monotonicFactory(pooledRandom());

/** Mints a tab id: a ULID, sortable by creation time even within one millisecond. */
export const mintTabId = (): string => ulid();

/** `clientRequestId` may hold any text; its KV key token is a hash of it. */
export const requestKey = (org: string, task: string, clientRequestId: string): string =>
  `${org}.${task}.${createHash('sha256').update(clientRequestId).digest('base64url').slice(0, 43)}`;
