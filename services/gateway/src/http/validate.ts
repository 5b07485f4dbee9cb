import { decode } from '@tabmesh/contracts';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { UnsupportedMediaTypeError } from '../errors.js';
import type { AppEnv } from './app-env.js';

/** `application/json`, or a `+json` type, with or without parameters. */
export function isJsonType(type: string | undefined): boolean {
  return type !== undefined && /^application\/([\w.+-]+\+)?json\b/i.test(type);
}

/**
 * The JSON body, validated; an empty body reads as `{}`. A declared non-JSON type is refused (a body
 * without any type never gets here: requireJsonBody refuses it for every route).
 */
export async function jsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const type = c.req.header('content-type');
  if (type && !isJsonType(type)) {
    throw new UnsupportedMediaTypeError(`request body: content-type must be application/json, got ${type}`);
  }
  // Under the HTTP server the body is already in memory: reading it is a decode.
  const text = await c.req.text();
  return decode(schema, text.trim() === '' ? '{}' : text, 'request body');
}

/**
 * Sends a body typed as the route's declared response. What goes in it was validated where it
 * entered this process (a bus reply, a KV read), so it is not parsed again on the way out; `schema`
 * names the response for the types and the OpenAPI document.
 */
export function reply<S extends z.ZodType, Code extends ContentfulStatusCode>(
  c: Context<AppEnv>,
  _schema: S,
  body: z.infer<S>,
  status: Code,
) {
  return c.json(body, status);
}
