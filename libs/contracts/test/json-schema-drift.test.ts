import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderJsonSchemas } from '../src/json-schema.js';

const committedDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'json-schema');

describe('committed JSON Schemas', () => {
  it('match the zod source exactly (run `pnpm schemas` after changing a schema)', () => {
    const rendered = renderJsonSchemas();
    const committed = Object.fromEntries(
      readdirSync(committedDir).map((name) => [name, readFileSync(join(committedDir, name), 'utf8')]),
    );
    expect(Object.keys(committed).sort()).toEqual(Object.keys(rendered).sort());
    for (const [name, text] of Object.entries(rendered)) expect(committed[name], name).toBe(text);
  });
});
