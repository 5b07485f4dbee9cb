import { stringify } from 'yaml';
import * as z from 'zod';
import { Buckets, Headers, QueueGroups, Streams, Subjects } from './bus.js';
import { allSchemas } from './schemas.js';
import { SandboxSlotsKey, SandboxSlotsSchema } from './slots.js';

/**
 * The AsyncAPI 3 document of the bus (libs/contracts/asyncapi.yaml), built from the names in bus.ts
 * and the zod schemas, so that a renamed subject or a changed schema changes the document.
 */

type Json = Record<string, unknown>;

/** AsyncAPI's default schema format is a superset of JSON Schema draft-07. */
function payload(schema: z.ZodType): Json {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
  });
  return json;
}

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

const correlationHeaders = {
  type: 'object',
  properties: {
    [Headers.correlationId]: { type: 'string', description: 'Follows one user action across services and logs.' },
  },
};

const jobHeaders = {
  type: 'object',
  required: [Headers.msgId],
  properties: {
    ...correlationHeaders.properties,
    [Headers.msgId]: {
      type: 'string',
      description: 'JetStream dedupe id: one job per task generation or tab attempt.',
    },
  },
};

/** A KV bucket as a channel: NATS stores key `k` of bucket `b` under the subject `$KV.b.k`. */
function kvChannel(bucket: string, key: string, message: string, description: string, params: Record<string, string>) {
  return {
    address: `$KV.${bucket}.${key}`,
    title: `KV bucket ${bucket}`,
    description,
    messages: { [message]: ref('messages', message) },
    ...(Object.keys(params).length
      ? { parameters: Object.fromEntries(Object.entries(params).map(([k, d]) => [k, { description: d }])) }
      : {}),
    'x-nats-kv': { bucket, key: key.replace(/\{(\w+)\}/g, '<$1>') },
  };
}

const idParams = { org: 'Org id.', task: 'Task id.', tab: 'Tab id (ULID).' };
const { org, task } = idParams;

/** Request/reply on a core subject served by the tab-registry queue group. */
function requestChannels(name: string, subject: string, request: string, reply: string, description: string) {
  return {
    [name]: {
      address: subject,
      description: `${description} Served by the \`${QueueGroups.tabRegistry}\` queue group.`,
      messages: { [request]: ref('messages', request) },
      'x-nats-queue-group': QueueGroups.tabRegistry,
    },
    [`${name}Reply`]: {
      // The reply goes to the requester's inbox, which NATS picks per request.
      address: null,
      description: `Reply to ${subject}, on the requester's inbox.`,
      messages: { [reply]: ref('messages', reply) },
    },
  };
}

function requestOperation(name: string, request: string, reply: string, summary: string) {
  return {
    action: 'receive',
    summary,
    channel: { $ref: `#/channels/${name}` },
    messages: [{ $ref: `#/channels/${name}/messages/${request}` }],
    reply: {
      channel: { $ref: `#/channels/${name}Reply` },
      messages: [{ $ref: `#/channels/${name}Reply/messages/${reply}` }],
    },
  };
}

function streamChannel(stream: (typeof Streams)[keyof typeof Streams], address: string, message: string, params: Json) {
  return {
    address,
    title: `stream ${stream.name}`,
    description: `Jobs on JetStream stream ${stream.name} (work queue), consumed by the durable pull consumer \`${stream.consumer}\`, which every replica shares.`,
    messages: { [message]: ref('messages', message) },
    parameters: params,
    'x-nats-stream': {
      name: stream.name,
      subjects: [...stream.subjects],
      consumer: stream.consumer,
      retention: 'workqueue',
    },
  };
}

const param = (description: string) => ({ description });

export function asyncApiDocument(): Json {
  const channels = {
    ...requestChannels(
      'tabCreate',
      Subjects.tabCreate,
      'tabCreateRequest',
      'tabReply',
      'Create a tab (idempotent per clientRequestId).',
    ),
    ...requestChannels('tabClose', Subjects.tabClose, 'tabRefRequest', 'tabReply', 'Close a tab, also while pending.'),
    ...requestChannels('tabRetry', Subjects.tabRetry, 'tabRefRequest', 'tabReply', 'Retry a tab in error.'),
    ...requestChannels('tabRead', Subjects.tabRead, 'tabRefRequest', 'tabReply', "Clear a tab's unread flag."),
    ...requestChannels(
      'taskTeardown',
      Subjects.taskTeardown,
      'taskRefRequest',
      'taskReply',
      'Close every tab of a task and remove its sandbox.',
    ),
    provisionJobs: streamChannel(Streams.provision, 'provision.{org}.{task}', 'provisionJob', {
      org: param(org),
      task: param(task),
    }),
    sessionJobs: streamChannel(Streams.sessions, 'session.{org}.{task}.{tab}', 'sessionJob', {
      org: param(org),
      task: param(task),
      tab: param(idParams.tab),
    }),
    tabsBucket: kvChannel(
      Buckets.tabs,
      '{org}.{task}.{tab}',
      'tabRecord',
      'Every tab; written by tab-registry and the workers with compare-and-set, watched by the gateway.',
      idParams,
    ),
    taskProgressInTabs: kvChannel(
      Buckets.tabs,
      '{org}.{task}',
      'taskProgress',
      "A task's provisioning step, once per task: written by the provisioner with compare-and-set; the gateway shows it on the task's `pending_provision` tabs written before it, at its revision.",
      { org, task },
    ),
    tasksBucket: kvChannel(
      Buckets.tasks,
      '{org}.{task}',
      'taskRecord',
      "Every task's provisioning state; watched by the gateway.",
      { org, task },
    ),
    tabRequestsBucket: kvChannel(
      Buckets.tabRequests,
      '{org}.{task}.{requestHash}',
      'tabRequestValue',
      'clientRequestId → tab id, so a repeated create returns the first tab.',
      { org, task, requestHash: 'base64url SHA-256 of the clientRequestId (43 characters).' },
    ),
    sandboxSlotsBucket: kvChannel(
      Buckets.sandboxSlots,
      SandboxSlotsKey,
      'sandboxSlots',
      'The live-sandbox holders of the deployment (TABMESH_MAX_SANDBOXES), one key rewritten with compare-and-set.',
      {},
    ),
    sandboxSecretsBucket: kvChannel(
      Buckets.sandboxSecrets,
      '{sandbox}',
      'sandboxSecret',
      "How to reach each sandbox (endpoint, token), apart from `tasks`: written by the provisioner, read by the session-creator; the gateway's NATS user has no right on it.",
      { sandbox: 'The sandbox id (a key token).' },
    ),
    tabSlotsBucket: kvChannel(
      Buckets.tabSlots,
      '{org}.{task}',
      'tabSlots',
      'The open tabs of a task (TABMESH_MAX_TABS_PER_TASK), rewritten with compare-and-set.',
      { org, task },
    ),
  };

  const operations = {
    serveTabCreate: requestOperation('tabCreate', 'tabCreateRequest', 'tabReply', 'tab-registry creates a tab.'),
    serveTabClose: requestOperation('tabClose', 'tabRefRequest', 'tabReply', 'tab-registry closes a tab.'),
    serveTabRetry: requestOperation('tabRetry', 'tabRefRequest', 'tabReply', 'tab-registry retries a tab.'),
    serveTabRead: requestOperation('tabRead', 'tabRefRequest', 'tabReply', 'tab-registry marks a tab read.'),
    serveTaskTeardown: requestOperation(
      'taskTeardown',
      'taskRefRequest',
      'taskReply',
      'tab-registry tears a task down.',
    ),
    consumeProvisionJobs: {
      action: 'receive',
      summary: `The provisioner takes provision and teardown jobs (consumer ${Streams.provision.consumer}).`,
      channel: { $ref: '#/channels/provisionJobs' },
    },
    consumeSessionJobs: {
      action: 'receive',
      summary: `The session-creator takes session create and destroy jobs (consumer ${Streams.sessions.consumer}).`,
      channel: { $ref: '#/channels/sessionJobs' },
    },
    watchTabs: {
      action: 'receive',
      summary: 'The gateway watches every tab for the WebSocket fan-out.',
      channel: { $ref: '#/channels/tabsBucket' },
    },
    watchTaskProgress: {
      action: 'receive',
      summary: "The gateway watches every task's progress entry (in bucket tabs) with the tabs.",
      channel: { $ref: '#/channels/taskProgressInTabs' },
    },
    watchTasks: {
      action: 'receive',
      summary: 'The gateway watches every task for the WebSocket fan-out.',
      channel: { $ref: '#/channels/tasksBucket' },
    },
    claimTabRequest: {
      action: 'send',
      summary: 'tab-registry claims a clientRequestId (KV create).',
      channel: { $ref: '#/channels/tabRequestsBucket' },
    },
    holdSandboxSlot: {
      action: 'send',
      summary: 'The provisioner takes and frees sandbox slots.',
      channel: { $ref: '#/channels/sandboxSlotsBucket' },
    },
    keepSandboxSecret: {
      action: 'send',
      summary: "The provisioner keeps a new sandbox's credential and removes it when the sandbox is destroyed.",
      channel: { $ref: '#/channels/sandboxSecretsBucket' },
    },
    holdTabSlot: {
      action: 'send',
      summary: "tab-registry takes a task's tab slot on create and frees it on close.",
      channel: { $ref: '#/channels/tabSlotsBucket' },
    },
  };

  const message = (name: string, schema: string, summary: string, headers?: Json) => ({
    name,
    summary,
    contentType: 'application/json',
    ...(headers ? { headers } : {}),
    payload: ref('schemas', schema),
  });

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'tabmesh bus',
      version: '1',
      description:
        'NATS subjects, JetStream streams and KV buckets of tabmesh (DESIGN.md), generated from libs/contracts. ' +
        'Every payload is JSON with `v: 1`. KV buckets appear as channels on their `$KV.<bucket>.<key>` subjects; ' +
        '`x-nats-kv`, `x-nats-stream` and `x-nats-queue-group` carry what AsyncAPI has no field for. ' +
        'The sandbox-agent SDK keeps its own session records in bucket `sessions` and stream `SESSION_EVENTS`, which it owns.',
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: 'localhost:4222',
        protocol: 'nats',
        description: "A member of the NATS cluster; every client authenticates as its service's user.",
        security: [ref('securitySchemes', 'natsUser')],
      },
    },
    channels,
    operations,
    components: {
      securitySchemes: {
        natsUser: { type: 'userPassword', description: 'One NATS user per service, with subject permissions.' },
      },
      schemas: {
        TabCreateRequest: payload(allSchemas['bus.tab-create.request']),
        TabRefRequest: payload(allSchemas['bus.tab-ref.request']),
        TabReply: payload(allSchemas['bus.tab.reply']),
        TaskRefRequest: payload(allSchemas['bus.task-teardown.request']),
        TaskReply: payload(allSchemas['bus.task.reply']),
        ProvisionJob: payload(allSchemas['stream.provision.job']),
        SessionJob: payload(allSchemas['stream.sessions.job']),
        TabRecord: payload(allSchemas['kv.tabs.value']),
        TaskRecord: payload(allSchemas['kv.tasks.value']),
        TaskProgress: payload(allSchemas['kv.tabs.task-progress.value']),
        TabRequestValue: { type: 'string', description: 'The id of the tab the first create made.' },
        SandboxSlots: payload(SandboxSlotsSchema),
        SandboxSecret: payload(allSchemas['kv.sandbox-secrets.value']),
        TabSlots: payload(allSchemas['kv.tab-slots.value']),
      },
      messages: {
        tabCreateRequest: message(
          'TabCreateRequest',
          'TabCreateRequest',
          `${Subjects.tabCreate} request.`,
          correlationHeaders,
        ),
        tabRefRequest: message(
          'TabRefRequest',
          'TabRefRequest',
          `${Subjects.tabClose}, ${Subjects.tabRetry}, ${Subjects.tabRead} request.`,
          correlationHeaders,
        ),
        tabReply: message('TabReply', 'TabReply', 'Reply to every tab.* request: the tab, or an error.'),
        taskRefRequest: message(
          'TaskRefRequest',
          'TaskRefRequest',
          `${Subjects.taskTeardown} request.`,
          correlationHeaders,
        ),
        taskReply: message('TaskReply', 'TaskReply', `Reply to ${Subjects.taskTeardown}.`),
        provisionJob: message(
          'ProvisionJob',
          'ProvisionJob',
          "Provision one task generation, or destroy a torn-down task's sandbox.",
          jobHeaders,
        ),
        sessionJob: message('SessionJob', 'SessionJob', "Create a tab's session, or destroy one.", jobHeaders),
        tabRecord: message('TabRecord', 'TabRecord', 'A tab as stored.'),
        taskRecord: message('TaskRecord', 'TaskRecord', 'A task as stored.'),
        taskProgress: message(
          'TaskProgress',
          'TaskProgress',
          "A task's provisioning step, as its waiting tabs show it.",
        ),
        tabRequestValue: {
          name: 'TabRequestValue',
          summary: 'A tab id, as plain JSON string.',
          contentType: 'application/json',
          payload: ref('schemas', 'TabRequestValue'),
        },
        sandboxSlots: message('SandboxSlots', 'SandboxSlots', 'Every sandbox slot holder.'),
        sandboxSecret: message('SandboxSecret', 'SandboxSecret', "A sandbox's credential."),
        tabSlots: message('TabSlots', 'TabSlots', "The ids of a task's open tabs."),
      },
    },
  };
}

/** The committed YAML text of the document. */
export function renderAsyncApi(): string {
  return stringify(asyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
}
