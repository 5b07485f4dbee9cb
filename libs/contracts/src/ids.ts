import * as z from 'zod';

/** Org and task ids are KV key tokens, so they are restricted to a safe alphabet. */
export const ResourceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"');
export const OrgIdSchema = ResourceIdSchema.describe('org id');
export const TaskIdSchema = ResourceIdSchema.describe('task id');
/**
 * Sandbox ids become file names and process marks (local provider) and KV key tokens (sim ledger), so
 * they are held to the same alphabet: `../x` or `a.b` never reaches a path or a subject.
 */
export const SandboxIdSchema = ResourceIdSchema.describe('sandbox id');

/** Tab ids are ULIDs minted by tab-registry: sortable by creation time, URL-safe, key-token safe. */
export const TabIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a 26-character ULID');

/**
 * Caller text shown back to every subscriber (titles, model names): bounded in length and free of
 * control characters and lone surrogates, which JSON spends six bytes each on. So a character costs
 * at most three bytes in a frame, and a full task's snapshot stays under the socket send cap.
 */
export const plainText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters');

/** Client-chosen idempotency token, scoped to its org and task. */
export const ClientRequestIdSchema = plainText(128).min(1);

/** Correlates one user action across services and logs. */
export const CorrelationIdSchema = z.string().min(1).max(128);

export const IsoTimeSchema = z.iso.datetime();
