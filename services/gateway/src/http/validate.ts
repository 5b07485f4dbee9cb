import type { IncomingMessage } from 'node:http';
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
  const text = await bodyText(c);
  return decode(schema, text.trim() === '' ? '{}' : text, 'request body');
}

/**
 * The body as text. On Node's server with a Content-Length (which bodyLimit has held to the
 * limit; Node's parser holds the body to it) and nothing read yet, straight from the socket's
 * stream: `c.req.text()` would make @hono/node-server build a fetch Request and a web stream over
 * it first, ~5 % of the gateway's CPU on creates. What is read is cached where hono looks for it.
 */
async function bodyText(c: Context<AppEnv>): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const direct =
    incoming?.headers !== undefined &&
    incoming.headers['transfer-encoding'] === undefined &&
    incoming.headers['content-length'] !== undefined &&
    incoming.readableDidRead === false &&
    Object.keys(c.req.bodyCache).length === 0;
  if (!direct) return c.req.text();
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  // hono keeps the promise of each body read there (its type says the value).
  (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
  return text;
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
