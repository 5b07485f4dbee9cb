import * as z from 'zod';
import { allSchemas } from './schemas.js';

/** Renders every boundary schema as JSON Schema, keyed by file name, for teams that test in other languages. */
export function renderJsonSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(allSchemas)) {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    files[`${name}.schema.json`] = `${JSON.stringify({ $id: `tabmesh/${name}`, ...json }, null, 2)}\n`;
  }
  return files;
}
