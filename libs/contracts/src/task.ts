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

/** Everything any process needs to reach a sandbox. */
export const SandboxRefSchema = z.object({
  provider: z.string().min(1),
  id: SandboxIdSchema,
  endpoint: z.string().nullable(),
  token: z.string().nullable().optional(),
});
export type SandboxRef = z.infer<typeof SandboxRefSchema>;

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
  sandbox: SandboxRefSchema.nullable(),
  error: ErrorInfoSchema.nullable(),
  updatedAt: IsoTimeSchema,
  provisionedAt: IsoTimeSchema.nullable(),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

/**
 * The sandbox as clients see it: which provider and which sandbox, nothing to reach it with. For
 * remote providers the endpoint alone is the key (their servers run without a token, or the URL
 * embeds it), so neither the endpoint nor the token leaves the mesh.
 */
export const SandboxViewSchema = SandboxRefSchema.pick({ provider: true, id: true });
export type SandboxView = z.infer<typeof SandboxViewSchema>;

/** A task as clients see it: no endpoint, no credential. */
export const TaskStatusSchema = TaskRecordSchema.omit({ sandbox: true }).extend({
  sandbox: SandboxViewSchema.nullable(),
  revision: z.number().int().min(0),
});
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
