import type { z } from 'zod';
import {
  CreateTabBodySchema,
  ProblemSchema,
  TabListResponseSchema,
  TabResponseSchema,
  TaskResponseSchema,
  TeardownResponseSchema,
} from './http.js';
import { ProvisionJobSchema, SessionJobSchema } from './jobs.js';
import {
  TabCreateRequestSchema,
  TabRefRequestSchema,
  TabReplySchema,
  TaskRefRequestSchema,
  TaskReplySchema,
} from './messages.js';
import { TabRecordSchema, TabSchema } from './tab.js';
import { TabSlotsSchema } from './tab-slots.js';
import { SandboxSecretSchema, TaskRecordSchema, TaskStatusSchema } from './task.js';
import { ClientFrameSchema, ServerFrameSchema } from './ws.js';

/** Every schema at a boundary, by the name its JSON Schema file takes. */
export const allSchemas = {
  'kv.tabs.value': TabRecordSchema,
  'kv.tasks.value': TaskRecordSchema,
  'kv.tab-slots.value': TabSlotsSchema,
  'kv.sandbox-secrets.value': SandboxSecretSchema,
  'bus.tab-create.request': TabCreateRequestSchema,
  'bus.tab-ref.request': TabRefRequestSchema,
  'bus.tab.reply': TabReplySchema,
  'bus.task-teardown.request': TaskRefRequestSchema,
  'bus.task.reply': TaskReplySchema,
  'stream.provision.job': ProvisionJobSchema,
  'stream.sessions.job': SessionJobSchema,
  'http.create-tab.body': CreateTabBodySchema,
  'http.tab.response': TabResponseSchema,
  'http.tab-list.response': TabListResponseSchema,
  'http.task.response': TaskResponseSchema,
  'http.teardown.response': TeardownResponseSchema,
  'http.problem': ProblemSchema,
  'ws.client-frame': ClientFrameSchema,
  'ws.server-frame': ServerFrameSchema,
  'view.tab': TabSchema,
  'view.task-status': TaskStatusSchema,
} as const satisfies Record<string, z.ZodType>;
export type SchemaName = keyof typeof allSchemas;
