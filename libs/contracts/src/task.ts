import * as z from 'zod';
import { ErrorInfoSchema } from './errors.js';
import { IsoTimeSchema, OrgIdSchema, SandboxIdSchema, TaskIdSchema } from './ids.js';
import { StepSchema } from './progress.js';

export const TaskProvisioning = {
  Unprovisioned: 'unprovisioned',
  Provisioning: 'provisioning',
  Provisioned: 'provisioned',
  Error: 'error',
} as const;
export type TaskProvisioning = (typeof TaskProvisioning)[keyof typeof TaskProvisioning];
export const TaskProvisioningSchema = z.enum(
  Object.values(TaskProvisioning) as [TaskProvisioning, ...TaskProvisioning[]],
);

/**
 * Which sandbox: its provider and id, nothing to reach it with. This is what tasks, jobs and slot
 * holders record and what clients see. For remote providers the endpoint alone is the key (their
 * servers run without a token, or the URL embeds it), so neither endpoint nor token is in here.
 */
export const SandboxViewSchema = z.object({
  provider: z.string().min(1),
  id: SandboxIdSchema,
});
export type SandboxView = z.infer<typeof SandboxViewSchema>;

/** Everything a worker needs to reach a sandbox: the view plus its credential (endpoint, token). */
export const SandboxRefSchema = SandboxViewSchema.extend({
  endpoint: z.string().nullable(),
  token: z.string().nullable().optional(),
});
export type SandboxRef = z.infer<typeof SandboxRefSchema>;

/**
 * A sandbox's credential as stored in KV bucket `sandbox-secrets` under its sandbox id: written by
 * the provisioner, read by the workers that reach sandboxes, never by the gateway or tab-registry.
 */
export const SandboxSecretSchema = SandboxRefSchema.extend({ v: z.literal(1) });
export type SandboxSecret = z.infer<typeof SandboxSecretSchema>;

/** Only what names a sandbox, whatever record it comes from. */
export const sandboxView = (s: SandboxView): SandboxView => ({ provider: s.provider, id: s.id });

/** A task as stored in KV bucket `tasks` under `{org}.{task}`. */
export const TaskRecordSchema = z.object({
  v: z.literal(1),
  org: OrgIdSchema,
  task: TaskIdSchema,
  state: TaskProvisioningSchema,
  /** Provisioning generation; a retry or a create after an error starts a new one (new dedupe id). */
  generation: z.number().int().min(0),
  step: StepSchema.nullable(),
  progress: z.string().nullable(),
  /** Which sandbox; how to reach it is in `sandbox-secrets`, which the gateway may not read. */
  sandbox: SandboxViewSchema.nullable(),
  error: ErrorInfoSchema.nullable(),
  updatedAt: IsoTimeSchema,
  provisionedAt: IsoTimeSchema.nullable(),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

/** A task as clients see it: the record (no endpoint, no credential) and its revision. */
export const TaskStatusSchema = TaskRecordSchema.extend({
  revision: z.number().int().min(0),
});
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
