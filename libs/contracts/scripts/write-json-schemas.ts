import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas } from '../src/json-schema.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'json-schema');
mkdirSync(outDir, { recursive: true });
for (const stale of readdirSync(outDir)) rmSync(join(outDir, stale));
const files = renderJsonSchemas();
for (const [name, text] of Object.entries(files)) writeFileSync(join(outDir, name), text);
process.stdout.write(`wrote ${Object.keys(files).length} JSON Schemas to ${outDir}\n`);
