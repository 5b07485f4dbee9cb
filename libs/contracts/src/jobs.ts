import * as z from 'zod';
import { OrgIdSchema, TabIdSchema, TaskIdSchema } from './ids.js';
import { TabRecordSchema } from './tab.js';
import { SandboxViewSchema } from './task.js';

/**
 * Job on stream PROVISION, subject `provision.{org}.{task}`: provision one task generation, or
 * destroy a torn-down task's sandbox.
 */
export const ProvisionJobSchema = z.discriminatedUnion('op', [
  z
    .object({
      v: z.literal(1),
      op: z.literal('provision'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      generation: z.number().int().min(1),
    })
    .strict(),
  z
    .object({
      v: z.literal(1),
      op: z.literal('teardown'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      generation: z.number().int().min(0),
      /** Which sandbox to destroy; the provisioner reads how to reach it from `sandbox-secrets`. */
      sandbox: SandboxViewSchema,
    })
    .strict(),
]);
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
      /**
       * The tab as the publisher just wrote it, at that KV revision: a first delivery starts from it
       * instead of reading the tab, and its compare-and-set finds out if the tab has moved since.
       */
      written: z
        .object({ revision: z.number().int().min(1), tab: TabRecordSchema })
        .strict()
        .optional(),
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
