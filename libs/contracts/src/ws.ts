import * as z from 'zod';
import { ErrorCodeSchema } from './errors.js';
import { OrgIdSchema, TaskIdSchema } from './ids.js';
import { TabSchema } from './tab.js';
import { TaskStatusSchema } from './task.js';

export const ClientOp = { Subscribe: 'subscribe', Unsubscribe: 'unsubscribe' } as const;

/** Frames a WebSocket client sends. `v` may be left out. */
export const ClientFrameSchema = z.discriminatedUnion('op', [
  z
    .object({
      v: z.literal(1).optional(),
      op: z.literal(ClientOp.Subscribe),
      org: OrgIdSchema,
      task: TaskIdSchema,
      sinceRevision: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      v: z.literal(1).optional(),
      op: z.literal(ClientOp.Unsubscribe),
      org: OrgIdSchema,
      task: TaskIdSchema,
    })
    .strict(),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export const ServerFrameType = {
  Snapshot: 'snapshot',
  Tab: 'tab',
  Task: 'task',
  Error: 'error',
} as const;

export const SnapshotFrameSchema = z.object({
  v: z.literal(1),
  type: z.literal(ServerFrameType.Snapshot),
  org: OrgIdSchema,
  task: TaskIdSchema,
  tabs: z.array(TabSchema),
  taskStatus: TaskStatusSchema,
  revision: z.number().int().min(0),
});
export const TabFrameSchema = z.object({ v: z.literal(1), type: z.literal(ServerFrameType.Tab), tab: TabSchema });
export const TaskFrameSchema = z.object({
  v: z.literal(1),
  type: z.literal(ServerFrameType.Task),
  task: TaskStatusSchema,
});
export const ErrorFrameSchema = z.object({
  v: z.literal(1),
  type: z.literal(ServerFrameType.Error),
  code: ErrorCodeSchema,
  detail: z.string(),
});

/** Frames the gateway sends. */
export const ServerFrameSchema = z.discriminatedUnion('type', [
  SnapshotFrameSchema,
  TabFrameSchema,
  TaskFrameSchema,
  ErrorFrameSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type SnapshotFrame = z.infer<typeof SnapshotFrameSchema>;
export type TabFrame = z.infer<typeof TabFrameSchema>;
export type TaskFrame = z.infer<typeof TaskFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
