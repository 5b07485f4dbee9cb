import * as z from 'zod';
import { ErrorCodeSchema } from './errors.js';
import { TabOptionsSchema } from './messages.js';
import { TabSchema } from './tab.js';
import { TaskStatusSchema } from './task.js';

/** Body of `POST /v1/orgs/{org}/tasks/{task}/tabs`. `v` may be left out by clients. */
export const CreateTabBodySchema = TabOptionsSchema.extend({ v: z.literal(1).optional() }).strict();
export type CreateTabBody = z.infer<typeof CreateTabBodySchema>;

export const TabResponseSchema = z.object({ v: z.literal(1), tab: TabSchema });
export type TabResponse = z.infer<typeof TabResponseSchema>;

/** Bootstrap snapshot: the open tabs of a task and the `tabs` bucket revision it reflects. */
export const TabListResponseSchema = z.object({
  v: z.literal(1),
  tabs: z.array(TabSchema),
  revision: z.number().int().min(0),
});
export type TabListResponse = z.infer<typeof TabListResponseSchema>;

export const TaskResponseSchema = z.object({ v: z.literal(1), task: TaskStatusSchema });
export type TaskResponse = z.infer<typeof TaskResponseSchema>;

export const TeardownResponseSchema = z.object({
  v: z.literal(1),
  task: TaskStatusSchema,
  closedTabs: z.number().int().min(0),
});
export type TeardownResponse = z.infer<typeof TeardownResponseSchema>;

/** RFC 9457 problem details, with tabmesh's stable `code`. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: ErrorCodeSchema,
  detail: z.string(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

export const problemType = (code: string): string => `https://tabmesh.dev/problems/${code}`;
