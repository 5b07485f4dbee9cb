import { z } from 'zod';
import { OrgIdSchema, TabIdSchema, TaskIdSchema } from './ids.js';

/** Job on stream PROVISION, subject `provision.{org}.{task}`: provision this task generation. */
export const ProvisionJobSchema = z
  .object({
    v: z.literal(1),
    op: z.enum(['provision', 'teardown']),
    org: OrgIdSchema,
    task: TaskIdSchema,
    generation: z.number().int().min(0),
  })
  .strict();
export type ProvisionJob = z.infer<typeof ProvisionJobSchema>;

/** Job on stream SESSIONS, subject `session.{org}.{task}.{tab}`. */
export const SessionJobSchema = z.discriminatedUnion('op', [
  z
    .object({
      v: z.literal(1),
      op: z.literal('create'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      tab: TabIdSchema,
      attempt: z.number().int().min(1),
    })
    .strict(),
  z
    .object({
      v: z.literal(1),
      op: z.literal('destroy'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      tab: TabIdSchema,
      sessionId: z.string().min(1),
    })
    .strict(),
]);
export type SessionJob = z.infer<typeof SessionJobSchema>;
