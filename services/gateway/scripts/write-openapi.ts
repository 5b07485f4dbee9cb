import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiText, renderOpenApiDocument } from '../src/http/openapi.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi.json');
writeFileSync(out, openApiText(renderOpenApiDocument()));
process.stdout.write(`wrote the OpenAPI document to ${out}\n`);
