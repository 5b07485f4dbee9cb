import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAsyncApi } from '../src/asyncapi.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'asyncapi.yaml');
writeFileSync(out, renderAsyncApi());
process.stdout.write(`wrote the AsyncAPI document to ${out}\n`);
