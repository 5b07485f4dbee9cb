/**
 * Every name on the bus, written once. Services import these; none retypes a string.
 */
export const Subjects = {
  tabCreate: 'tab.create',
  tabClose: 'tab.close',
  tabRetry: 'tab.retry',
  tabRead: 'tab.read',
  taskTeardown: 'task.teardown',
} as const;
export type RequestSubject = (typeof Subjects)[keyof typeof Subjects];

export const QueueGroups = { tabRegistry: 'tab-registry' } as const;

export const Buckets = {
  tabs: 'tabs',
  tasks: 'tasks',
  /** clientRequestId → tab id, so a repeated create returns the original tab. */
  tabRequests: 'tab-requests',
  /** The live-sandbox holders of the deployment, one key, for TABMESH_MAX_SANDBOXES (see sandbox-slots). */
  sandboxSlots: 'sandbox-slots',
  /** `{org}.{task}` → the ids of its open tabs, for the tabs-per-task limit. */
  tabSlots: 'tab-slots',
  /**
   * Sandbox id → how to reach it (endpoint, token): the sandbox's credential, kept out of `tasks`
   * (which the gateway watches) so only the workers that talk to sandboxes can read it.
   */
  sandboxSecrets: 'sandbox-secrets',
} as const;

/** The sim provider's cross-process ledger (load and fault tests only). */
export const SimLedgerBucket = 'sim-ledger';

/** The stream behind a KV bucket (JetStream's naming). */
export const kvStream = (bucket: string): string => `KV_${bucket}`;
/** The subject prefix of a KV bucket's keys (JetStream's naming). */
export const kvSubjectPrefix = (bucket: string): string => `$KV.${bucket}`;

/** Where the sandbox-agent SDK's session records and events live, so any process reaches them. */
export const SessionPersistNames = {
  bucket: 'sessions',
  stream: 'SESSION_EVENTS',
  subjectPrefix: 'sessionevents',
} as const;

/**
 * Session ids become KV keys (bucket `sessions`) and subject tokens (`sessionevents.{key}`); anything
 * outside the safe set is base64url-encoded. Shared so the process pruning a closed tab's session
 * names the same key as the persist driver that wrote it.
 */
export function sessionPersistKey(id: string): string {
  return /^[A-Za-z0-9_-]+$/.test(id) ? id : `b64_${Buffer.from(id).toString('base64url').replace(/-/g, '_-')}`;
}

export const Streams = {
  provision: { name: 'PROVISION', subjects: ['provision.>'], consumer: 'provisioner' },
  sessions: { name: 'SESSIONS', subjects: ['session.>'], consumer: 'session-creator' },
} as const;

export const Headers = {
  correlationId: 'Tabmesh-Correlation-Id',
  /** JetStream's own dedupe header. */
  msgId: 'Nats-Msg-Id',
} as const;

export const provisionSubject = (org: string, task: string): string => `provision.${org}.${task}`;
export const sessionSubject = (org: string, task: string, tab: string): string => `session.${org}.${task}.${tab}`;

export const tabKey = (org: string, task: string, tab: string): string => `${org}.${task}.${tab}`;
export const taskTabsFilter = (org: string, task: string): string => `${org}.${task}.*`;
export const taskKey = (org: string, task: string): string => `${org}.${task}`;

/** Dedupe ids: one provision job per task generation, one session job per tab attempt. */
export const provisionMsgId = (org: string, task: string, generation: number): string =>
  `provision.${org}.${task}.${generation}`;
export const sessionMsgId = (tab: string, attempt: number): string => `session.${tab}.${attempt}`;
export const teardownMsgId = (org: string, task: string, generation: number): string =>
  `teardown.${org}.${task}.${generation}`;
/**
 * The dedupe id of a job published again because the first is presumed lost (the pending sweep):
 * one more job per `round`, so the sweeps of several registries in one round still publish one.
 */
export const redriveMsgId = (msgId: string, round: number): string => (round > 0 ? `${msgId}.redrive.${round}` : msgId);
export const sessionDestroyMsgId = (tab: string, sessionId: string): string => `destroy.${tab}.${sessionId}`;

/** Splits a `tabs` key back into its parts; null for a key of another shape. */
export function parseTabKey(key: string): { org: string; task: string; tab: string } | null {
  const parts = key.split('.');
  if (parts.length !== 3) return null;
  const [org, task, tab] = parts as [string, string, string];
  return { org, task, tab };
}

export function parseTaskKey(key: string): { org: string; task: string } | null {
  const parts = key.split('.');
  if (parts.length !== 2) return null;
  const [org, task] = parts as [string, string];
  return { org, task };
}
