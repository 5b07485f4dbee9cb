import type { z } from 'zod';
import { describeZodError, ValidationError } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Parses JSON bytes or text against a schema; throws ValidationError with a readable reason. */
export function decode<S extends z.ZodType>(schema: S, data: Uint8Array | string, what: string): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch {
    throw new ValidationError(`${what}: body is not valid JSON`);
  }
  return parse(schema, raw, what);
}

export function parse<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new ValidationError(`${what}: ${describeZodError(result.error)}`, result.error.issues);
  return result.data;
}

/** Validates before sending, so a service never emits what its own contract rejects. */
export function encode<S extends z.ZodType>(schema: S, value: z.input<S> | z.infer<S>, what: string): Uint8Array {
  return encoder.encode(JSON.stringify(parse(schema, value, what)));
}

export function encodeText<S extends z.ZodType>(schema: S, value: z.input<S> | z.infer<S>, what: string): string {
  return JSON.stringify(parse(schema, value, what));
}

/**
 * JSON of a value this process already holds validated: decoded at its door, or built from such
 * values by the state machine and typed by its schema. Validating it again on every hop within one
 * process only repeats the check (and on the hot path it was a third of the cost of a KV write);
 * the next process validates it when it reads it.
 */
export function encodeValidated<T>(value: T): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** encodeValidated, as text (WebSocket frames). */
export function textOfValidated<T>(value: T): string {
  return JSON.stringify(value);
}
