import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateTabBodySchema,
  ProblemSchema,
  TabListResponseSchema,
  TabResponseSchema,
  TaskResponseSchema,
  TeardownResponseSchema,
} from '@tabmesh/contracts';
import type { ReadinessReport } from '../readiness.js';
import { TabParamsSchema, TaskParamsSchema } from './params.js';
import { ProblemContentType } from './problem.js';

/**
 * Every route of the HTTP API as an OpenAPI route, built from the zod schemas of libs/contracts.
 * The routes register these (app.openapi), and scripts/write-openapi.ts renders the same list, so
 * the served document and the committed one cannot describe different routes.
 */

export const BearerScheme = 'bearerAuth';
const bearer = [{ [BearerScheme]: [] }];

/**
 * A copy of a contract schema that carries OpenAPI metadata. zod 4 copies methods onto each schema
 * when it is built, so a contract schema built before @hono/zod-openapi extended zod has no
 * `.openapi()`; a clone is built now and has it. The routes still validate with the contract schemas.
 */
function documented<S extends z.ZodType>(schema: S, id: string): S {
  return schema.clone().openapi(id) as S;
}

/** A path parameter's schema, named as the path names it. */
function pathParam<S extends z.ZodType>(schema: S, name: string, example: string): S {
  return schema.clone().openapi({ param: { name, in: 'path' }, example }) as S;
}

const Problem = documented(ProblemSchema, 'Problem');
const CreateTabBody = documented(CreateTabBodySchema, 'CreateTabBody');
const TabResponse = documented(TabResponseSchema, 'TabResponse');
const TabListResponse = documented(TabListResponseSchema, 'TabListResponse');
const TaskResponse = documented(TaskResponseSchema, 'TaskResponse');
const TeardownResponse = documented(TeardownResponseSchema, 'TeardownResponse');

export const ReadinessReportSchema = z
  .object({ ready: z.boolean(), nats: z.boolean(), buckets: z.boolean(), watches: z.record(z.string(), z.boolean()) })
  .openapi('ReadinessReport') satisfies z.ZodType<ReadinessReport>;

const taskParams = TaskParamsSchema.extend({
  org: pathParam(TaskParamsSchema.shape.org, 'org', 'acme'),
  task: pathParam(TaskParamsSchema.shape.task, 'task', 'task-1'),
});
const tabParams = taskParams.extend({
  tab: pathParam(TabParamsSchema.shape.tab, 'tab', '01JABCDEFGHJKMNPQRSTVWXYZ0'),
});

const problemReasons = {
  400: 'Invalid path parameter or body (`invalid_request`).',
  401: 'No bearer token, or one that is malformed, expired or badly signed (`unauthenticated`).',
  403: 'The token does not cover this org, or the Origin is not allowed (`forbidden`).',
  404: 'No such tab (`not_found`).',
  409: 'The tab is in a state that does not allow this (`invalid_transition`).',
  413: 'The body is larger than the gateway accepts (`invalid_request`).',
  415: 'A body not declared as application/json (`unsupported_media_type`).',
  429: 'Too many requests from this caller; retry after the `Retry-After` seconds.',
  503: 'NATS or tab-registry is unavailable; retry shortly (`unavailable`).',
} as const;
type ProblemStatus = keyof typeof problemReasons;

function problems(...statuses: ProblemStatus[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: problemReasons[s], content: { [ProblemContentType]: { schema: Problem } } },
    ]),
  ) as Record<ProblemStatus, { description: string; content: { [ProblemContentType]: { schema: typeof Problem } } }>;
}

/** What every `/v1` route may answer besides its own outcome. */
const v1Problems = [400, 401, 403, 429, 503] as const;
/** Routes that take a body also pass the body checks. */
const bodyProblems = [413, 415] as const;

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const createTabRoute = createRoute({
  method: 'post',
  path: '/v1/orgs/{org}/tasks/{task}/tabs',
  operationId: 'createTab',
  tags: ['tabs'],
  summary: 'Open a tab in a task',
  description:
    'Answers once the tab is recorded (`pending_provision`); provisioning goes on in the background. ' +
    'The same `clientRequestId` again returns the same tab with 200. An empty body is `{}`.',
  security: bearer,
  request: {
    params: taskParams,
    body: { required: false, content: { 'application/json': { schema: CreateTabBody } } },
  },
  responses: {
    201: json(TabResponse, 'The tab was created.'),
    200: json(TabResponse, 'A create with this clientRequestId was already done: the same tab.'),
    ...problems(...v1Problems, ...bodyProblems),
  },
});

export const listTabsRoute = createRoute({
  method: 'get',
  path: '/v1/orgs/{org}/tasks/{task}/tabs',
  operationId: 'listTabs',
  tags: ['tabs'],
  summary: 'Open tabs of a task (bootstrap snapshot)',
  security: bearer,
  request: { params: taskParams },
  responses: {
    200: json(TabListResponse, 'The open tabs and the `tabs` bucket revision they reflect.'),
    ...problems(...v1Problems),
  },
});

export const getTabRoute = createRoute({
  method: 'get',
  path: '/v1/orgs/{org}/tasks/{task}/tabs/{tab}',
  operationId: 'getTab',
  tags: ['tabs'],
  summary: 'One tab',
  security: bearer,
  request: { params: tabParams },
  responses: { 200: json(TabResponse, 'The tab.'), ...problems(...v1Problems, 404) },
});

export const closeTabRoute = createRoute({
  method: 'delete',
  path: '/v1/orgs/{org}/tasks/{task}/tabs/{tab}',
  operationId: 'closeTab',
  tags: ['tabs'],
  summary: 'Close a tab, also while it is pending',
  security: bearer,
  request: { params: tabParams },
  responses: { 202: json(TabResponse, 'The tab, closed.'), ...problems(...v1Problems, 404, 409) },
});

export const retryTabRoute = createRoute({
  method: 'post',
  path: '/v1/orgs/{org}/tasks/{task}/tabs/{tab}/retry',
  operationId: 'retryTab',
  tags: ['tabs'],
  summary: 'Retry a tab in `error`',
  security: bearer,
  request: { params: tabParams },
  responses: {
    202: json(TabResponse, 'The tab, pending again.'),
    ...problems(...v1Problems, ...bodyProblems, 404, 409),
  },
});

export const readTabRoute = createRoute({
  method: 'post',
  path: '/v1/orgs/{org}/tasks/{task}/tabs/{tab}/read',
  operationId: 'markTabRead',
  tags: ['tabs'],
  summary: 'Clear `unread`',
  security: bearer,
  request: { params: tabParams },
  responses: {
    200: json(TabResponse, 'The tab, read.'),
    ...problems(...v1Problems, ...bodyProblems, 404, 409),
  },
});

export const getTaskRoute = createRoute({
  method: 'get',
  path: '/v1/orgs/{org}/tasks/{task}',
  operationId: 'getTask',
  tags: ['tasks'],
  summary: "A task's provisioning status (`unprovisioned` for a task never seen)",
  security: bearer,
  request: { params: taskParams },
  responses: { 200: json(TaskResponse, 'The task status.'), ...problems(...v1Problems) },
});

export const teardownTaskRoute = createRoute({
  method: 'delete',
  path: '/v1/orgs/{org}/tasks/{task}',
  operationId: 'teardownTask',
  tags: ['tasks'],
  summary: 'Close every tab of a task and remove its sandbox',
  security: bearer,
  request: { params: taskParams },
  responses: {
    202: json(TeardownResponse, 'Teardown accepted; the sandbox is removed in the background.'),
    ...problems(...v1Problems),
  },
});

export const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  tags: ['ops'],
  summary: 'Liveness (no token)',
  responses: { 200: json(z.object({ ok: z.literal(true) }), 'The process is up.') },
});

export const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  tags: ['ops'],
  summary: 'Readiness: NATS connected, buckets bound, KV watches consuming (no token)',
  responses: {
    200: json(ReadinessReportSchema, 'Ready.'),
    503: json(ReadinessReportSchema, 'Not ready; the report says what is missing.'),
  },
});

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'metrics',
  tags: ['ops'],
  summary: 'Prometheus metrics, text format (no token)',
  responses: {
    200: { description: 'Prometheus text exposition format 0.0.4.', content: { 'text/plain': { schema: z.string() } } },
  },
});

export const openApiRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'openapi',
  tags: ['ops'],
  summary: 'This document (no token)',
  responses: {
    200: {
      description: 'The OpenAPI 3.1 document.',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

export const docsRoute = createRoute({
  method: 'get',
  path: '/docs',
  operationId: 'docs',
  tags: ['ops'],
  summary: 'A readable reference page of this document (no token)',
  responses: { 200: { description: 'An HTML page.', content: { 'text/html': { schema: z.string() } } } },
});

/** Every documented route; the drift test checks that the app registers no route outside it. */
export const apiRoutes = [
  createTabRoute,
  listTabsRoute,
  getTabRoute,
  closeTabRoute,
  retryTabRoute,
  readTabRoute,
  getTaskRoute,
  teardownTaskRoute,
  healthzRoute,
  readyzRoute,
  metricsRoute,
  openApiRoute,
  docsRoute,
] as const;
