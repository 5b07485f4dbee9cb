import * as z from 'zod';
import { IsoTimeSchema, OrgIdSchema, TaskIdSchema } from './ids.js';
import { SandboxViewSchema } from './task.js';

/**
 * One holder of a sandbox slot (TABMESH_MAX_SANDBOXES): a task generation that is starting, or
 * runs, a sandbox. Keyed by task generation, so a redelivered provision job of the same generation
 * finds its slot again instead of taking a second one.
 */
export const SandboxSlotHolderSchema = z.object({
  org: OrgIdSchema,
  task: TaskIdSchema,
  generation: z.number().int().min(1),
  /** Null while the sandbox is being started; set once the provisioner has it. */
  sandbox: SandboxViewSchema.nullable(),
  since: IsoTimeSchema,
  /** Renewed by the provisioning job while it works: a stale holder without a sandbox is a dead job's. */
  renewedAt: IsoTimeSchema,
});
export type SandboxSlotHolder = z.infer<typeof SandboxSlotHolderSchema>;

/** The single value of KV bucket `sandbox-slots` (key `slots`): every holder of the deployment. */
export const SandboxSlotsSchema = z.object({
  v: z.literal(1),
  holders: z.record(z.string(), SandboxSlotHolderSchema),
});
export type SandboxSlots = z.infer<typeof SandboxSlotsSchema>;

export const SandboxSlotsKey = 'slots';
export const slotHolderKey = (org: string, task: string, generation: number): string => `${org}.${task}.g${generation}`;
