import { SessionJobSchema, Streams, taskKey } from '@tabmesh/contracts';
import { type SandboxProvider, startProviderWorker, workerSandboxAccess } from '@tabmesh/providers';
import {
  type Config,
  type Logger,
  ProvisionedTasks,
  Semaphore,
  TabFlow,
  type WorkerKind,
  type WorkerServiceHandle,
} from '@tabmesh/runtime';
import { handleSession, onSessionFailure, type SessionDeps } from './handle-session.js';

/** The deps of a session job, with the watch that backs `provisionedTask` once it runs. */
type SessionCreatorDeps = SessionDeps & { watch: { provisioned: ProvisionedTasks | null } };

export type SessionCreatorHandle = WorkerServiceHandle<typeof SessionJobSchema, SessionCreatorDeps, SandboxProvider>;

/** Session jobs create and destroy a tab's agent session in its task's sandbox. */
const sessionCreator: WorkerKind<typeof SessionJobSchema, SessionCreatorDeps, SandboxProvider> = {
  stream: Streams.sessions,
  schema: SessionJobSchema,
  handle: handleSession,
  onFailure: onSessionFailure,
  logIds: (job) => ({ org: job.org, task: job.task, tab: 'tab' in job ? job.tab : undefined, op: job.op }),
  // Besides the flow's transitions, a session job reads the tab and the task directly.
  deps: (bus, provider, config, metrics) => {
    const flow = TabFlow.onBus(bus);
    const access = workerSandboxAccess(bus, provider); // its NATS user may read the credentials, not write them
    const watch: { provisioned: ProvisionedTasks | null } = { provisioned: null };
    return {
      tabs: flow.tabs,
      tasks: flow.tasks,
      provisionedTask: (org: string, task: string) => watch.provisioned?.byKey.get(taskKey(org, task)) ?? null,
      watch,
      flow,
      provider: access,
      onReady: metrics.timeToReady,
      sessionSlots: new Semaphore(config.TABMESH_CONCURRENCY),
    };
  },
  // Until the watch of provisioned tasks has started, every job reads its task.
  companions: async (deps, { bus, logger, onStop }) => {
    const provisioned = new ProvisionedTasks(bus.tasks, logger);
    await provisioned.start();
    deps.watch.provisioned = provisioned;
    onStop(() => provisioned.stop());
  },
};

/** Runs the `session-creator` durable consumer; any number of processes share it. */
export const startSessionCreator = (
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<SessionCreatorHandle> => startProviderWorker(config, logger, sessionCreator, opts.provider);
