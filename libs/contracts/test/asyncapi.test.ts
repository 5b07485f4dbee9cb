import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderAsyncApi } from '../src/asyncapi.js';
import { Buckets, Streams, Subjects } from '../src/bus.js';

const committedPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'asyncapi.yaml');
const committed = readFileSync(committedPath, 'utf8');

// The parser's severity 0 is an error; 1 a warning.
const ErrorSeverity = 0;

describe('the AsyncAPI document', () => {
  it('is committed exactly as libs/contracts renders it (run `pnpm schemas` after changing the bus)', () => {
    expect(committed).toBe(renderAsyncApi());
  });

  it('is a valid AsyncAPI 3 document for @asyncapi/parser', async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    const errors = diagnostics.filter((d) => d.severity === ErrorSeverity);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('refuses a broken document, so the validation above can fail', async () => {
    const broken = committed.replace(
      '$ref: "#/components/messages/tabReply"',
      '$ref: "#/components/messages/noSuchMessage"',
    );
    expect(broken).not.toBe(committed);
    const { diagnostics } = await new Parser().parse(broken);
    expect(diagnostics.some((d) => d.severity === ErrorSeverity)).toBe(true);
  });

  it('has a channel for every request subject, stream and bucket of bus.ts', async () => {
    const doc = parseYaml(committed) as {
      channels: Record<string, { address: string | null; 'x-nats-kv'?: { bucket: string } }>;
    };
    const addresses = Object.values(doc.channels).map((c) => c.address);
    for (const subject of Object.values(Subjects)) expect(addresses).toContain(subject);
    expect(addresses).toContain('provision.{org}.{task}');
    expect(addresses).toContain('session.{org}.{task}.{tab}');
    for (const stream of Object.values(Streams)) {
      expect(
        Object.values(doc.channels).some((c) => JSON.stringify(c).includes(`"name":"${stream.name}"`)),
        stream.name,
      ).toBe(true);
    }
    const buckets = Object.values(doc.channels).flatMap((c) => (c['x-nats-kv'] ? [c['x-nats-kv'].bucket] : []));
    // Bucket `tabs` holds two kinds of value: tabs, and the tasks' progress entries.
    expect([...new Set(buckets)].sort()).toEqual(Object.values(Buckets).sort());
    expect(buckets.filter((b) => b === Buckets.tabs)).toHaveLength(2);
  });
});
