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

/** A task as clients see it; the sandbox token never leaves the mesh. */
export const TaskStatusSchema = TaskRecordSchema.omit({ sandbox: true }).extend({
  sandbox: SandboxRefSchema.omit({ token: true }).nullable(),
  revision: z.number().int().min(0),
});
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
