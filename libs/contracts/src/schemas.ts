import type { z } from 'zod';
import * as http from './http.js';
import { ProvisionJobSchema, SessionJobSchema } from './jobs.js';
import * as messages from './messages.js';
import { TabRecordSchema, TabSchema } from './tab.js';
import { TabSlotsSchema } from './tab-slots.js';
import { SandboxSecretSchema, TaskRecordSchema, TaskStatusSchema } from './task.js';
import { TaskProgressRecordSchema } from './task-progress.js';
import { ClientFrameSchema, ServerFrameSchema } from './ws.js';

/** Every schema at a boundary, by the name its JSON Schema file takes. */
export const allSchemas = {
  'kv.tabs.value': TabRecordSchema,
  'kv.tabs.task-progress.value': TaskProgressRecordSchema,
  'kv.tasks.value': TaskRecordSchema,
  'kv.tab-slots.value': TabSlotsSchema,
  'kv.sandbox-secrets.value': SandboxSecretSchema,
  'bus.tab-create.request': messages.TabCreateRequestSchema,
  'bus.tab-ref.request': messages.TabRefRequestSchema,
  'bus.tab.reply': messages.TabReplySchema,
  'bus.task-teardown.request': messages.TaskRefRequestSchema,
  'bus.task.reply': messages.TaskReplySchema,
  'stream.provision.job': ProvisionJobSchema,
  'stream.sessions.job': SessionJobSchema,
  'http.create-tab.body': http.CreateTabBodySchema,
  'http.tab.response': http.TabResponseSchema,
  'http.tab-list.response': http.TabListResponseSchema,
  'http.task.response': http.TaskResponseSchema,
  'http.teardown.response': http.TeardownResponseSchema,
  'http.problem': http.ProblemSchema,
  'ws.client-frame': ClientFrameSchema,
  'ws.server-frame': ServerFrameSchema,
  'view.tab': TabSchema,
  'view.task-status': TaskStatusSchema,
} as const satisfies Record<string, z.ZodType>;
export type SchemaName = keyof typeof allSchemas;
