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

/**
 * The tab as the publisher just wrote it, at that KV revision: a first delivery starts from it
 * instead of reading the tab, and its compare-and-set finds out if the tab has moved since.
 */
const WrittenTabSchema = z.object({ revision: z.number().int().min(1), tab: TabRecordSchema }).strict();

/** Most tab attempts one `create_many` job carries; more waiting tabs make more jobs. */
export const MaxSessionBatch = 32;

/**
 * Job on stream SESSIONS, subject `session.{org}.{task}.{tab}`: create the session of one tab
 * attempt, destroy a closed tab's session, or, on the subject of its first tab, do either for several
 * tabs of one task at once: `create_many` as a provisioning that has just finished hands over all the
 * tabs that waited for it, `destroy_many` as closes of one task's tabs arrive together.
 */
export const SessionJobSchema = z.discriminatedUnion('op', [
  z
    .object({
      v: z.literal(1),
      op: z.literal('create'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      tab: TabIdSchema,
      attempt: z.number().int().min(1),
      written: WrittenTabSchema.optional(),
    })
    .strict(),
  z
    .object({
      v: z.literal(1),
      op: z.literal('create_many'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      tabs: z
        .array(
          z
            .object({ tab: TabIdSchema, attempt: z.number().int().min(1), written: WrittenTabSchema.optional() })
            .strict(),
        )
        .min(1)
        .max(MaxSessionBatch)
        .refine((tabs) => new Set(tabs.map((t) => t.tab)).size === tabs.length, 'a tab appears twice'),
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
  z
    .object({
      v: z.literal(1),
      op: z.literal('destroy_many'),
      org: OrgIdSchema,
      task: TaskIdSchema,
      sessions: z
        .array(z.object({ tab: TabIdSchema, sessionId: z.string().min(1) }).strict())
        .min(1)
        .max(MaxSessionBatch)
        .refine((sessions) => new Set(sessions.map((s) => s.tab)).size === sessions.length, 'a tab appears twice'),
    })
    .strict(),
]);
export type SessionJob = z.infer<typeof SessionJobSchema>;
/** One tab attempt of a session create, alone (`create`) or in a `create_many`. */
export type SessionCreate = { tab: string; attempt: number; written?: z.infer<typeof WrittenTabSchema> | undefined };
