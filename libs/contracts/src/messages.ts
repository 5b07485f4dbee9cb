import * as z from 'zod';
import { ErrorInfoSchema } from './errors.js';
import { ClientRequestIdSchema, OrgIdSchema, plainText, TabIdSchema, TaskIdSchema } from './ids.js';
import { TabSchema } from './tab.js';
import { TaskStatusSchema } from './task.js';

/** Fields a client may set on a new tab. */
export const TabOptionsSchema = z.object({
  agent: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be an agent name')
    .optional(),
  model: plainText(128).min(1).optional(),
  title: plainText(200).optional(),
  clientRequestId: ClientRequestIdSchema.optional(),
});

/** `tab.create` request. */
export const TabCreateRequestSchema = TabOptionsSchema.extend({
  v: z.literal(1),
  org: OrgIdSchema,
  task: TaskIdSchema,
}).strict();
export type TabCreateRequest = z.infer<typeof TabCreateRequestSchema>;

/** `tab.close`, `tab.retry`, `tab.read` request. */
export const TabRefRequestSchema = z
  .object({ v: z.literal(1), org: OrgIdSchema, task: TaskIdSchema, tab: TabIdSchema })
  .strict();
export type TabRefRequest = z.infer<typeof TabRefRequestSchema>;

/** `task.teardown` request: close every tab of the task and destroy its sandbox. */
export const TaskRefRequestSchema = z.object({ v: z.literal(1), org: OrgIdSchema, task: TaskIdSchema }).strict();
export type TaskRefRequest = z.infer<typeof TaskRefRequestSchema>;

const ReplyErrorSchema = z.object({ v: z.literal(1), ok: z.literal(false), error: ErrorInfoSchema });

/** Reply to every `tab.*` request. `created` is false when a `clientRequestId` matched an earlier tab. */
export const TabReplySchema = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(1), ok: z.literal(true), tab: TabSchema, created: z.boolean() }),
  ReplyErrorSchema,
]);
export type TabReply = z.infer<typeof TabReplySchema>;

/** Reply to `task.teardown`. */
export const TaskReplySchema = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(1), ok: z.literal(true), task: TaskStatusSchema, closedTabs: z.number().int().min(0) }),
  ReplyErrorSchema,
]);
export type TaskReply = z.infer<typeof TaskReplySchema>;
