import * as z from 'zod';
import { ErrorInfoSchema } from './errors.js';
import {
  ClientRequestIdSchema,
  IsoTimeSchema,
  OrgIdSchema,
  SandboxIdSchema,
  TabIdSchema,
  TaskIdSchema,
} from './ids.js';
import { StepSchema } from './progress.js';

export const TabState = {
  PendingProvision: 'pending_provision',
  PendingSessionCreate: 'pending_session_create',
  Ready: 'ready',
  Error: 'error',
  Closed: 'closed',
} as const;
export type TabState = (typeof TabState)[keyof typeof TabState];
export const TabStateSchema = z.enum(Object.values(TabState) as [TabState, ...TabState[]]);

/** A tab as stored in KV bucket `tabs` under `{org}.{task}.{tab}`. */
export const TabRecordSchema = z.object({
  v: z.literal(1),
  id: TabIdSchema,
  org: OrgIdSchema,
  task: TaskIdSchema,
  state: TabStateSchema,
  title: z.string().max(200),
  agent: z.string().min(1).max(64),
  model: z.string().max(128).nullable(),
  sessionId: z.string().min(1).max(256).nullable(),
  sandboxId: SandboxIdSchema.nullable(),
  unread: z.boolean(),
  /** Human text of the current step, e.g. "Preparing environment". */
  progress: z.string().nullable(),
  step: StepSchema.nullable(),
  error: ErrorInfoSchema.nullable(),
  /** Session attempt; bumped by retry so a new job gets a new dedupe id. */
  attempt: z.number().int().min(1),
  clientRequestId: ClientRequestIdSchema.nullable(),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
  readyAt: IsoTimeSchema.nullable(),
  closedAt: IsoTimeSchema.nullable(),
});
export type TabRecord = z.infer<typeof TabRecordSchema>;

/**
 * A tab as clients see it: the record plus its `tabs` revision (of its last write, or of its task's
 * progress entry when that is later and the tab waits for provisioning; see composeTabView).
 */
export const TabSchema = TabRecordSchema.extend({ revision: z.number().int().min(0) });
export type Tab = z.infer<typeof TabSchema>;

export const isPendingState = (state: TabState): boolean =>
  state === TabState.PendingProvision || state === TabState.PendingSessionCreate;
