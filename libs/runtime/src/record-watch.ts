import { type KV, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import type { z } from 'zod';
import type { Logger } from './logger.js';

/** Called for every entry of the watched bucket, in revision order; must not throw. */
export type RecordEntryHandler<T> = (key: string, record: T | null, entry: KvWatchEntry) => void;

/**
 * One watch of a bucket (every key, or those `keys` matches, e.g. `*.*.*`), from each key's latest
 * value on, every value decoded with `schema`.
 * `record` is null for a delete or purge marker (`entry.operation` tells which) and for a value that
 * does not match the schema (logged): the key's old record no longer holds either way, and one bad
 * writer cannot stop an index. Resolves once the watch consumes, with the function that stops it.
 */
export async function watchRecords<S extends z.ZodType>(
  kv: KV,
  schema: S,
  logger: Logger,
  onEntry: RecordEntryHandler<z.infer<S>>,
  keys = '>',
): Promise<() => void> {
  const watch = await kv.watch({ key: keys, include: KvWatchInclude.LastValue });
  void (async () => {
    for await (const entry of watch) {
      if (entry.operation !== 'PUT') {
        onEntry(entry.key, null, entry);
        continue;
      }
      const parsed = schema.safeParse(jsonOrNull(entry.value));
      if (!parsed.success) logger.warn({ key: entry.key }, 'value does not match its schema; ignored');
      onEntry(entry.key, parsed.success ? parsed.data : null, entry);
    }
  })();
  return () => watch.stop();
}

const utf8 = new TextDecoder();

function jsonOrNull(data: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(data));
  } catch {
    return null;
  }
}
