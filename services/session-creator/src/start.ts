import { SessionJobSchema, Streams } from '@tabmesh/contracts';
import { type SandboxProvider, startProviderWorker, workerSandboxAccess } from '@tabmesh/providers';
import { type Config, type Logger, TabFlow, type WorkerKind, type WorkerServiceHandle } from '@tabmesh/runtime';
import { handleSession, onSessionFailure, type SessionDeps } from './handle-session.js';

export type SessionCreatorHandle = WorkerServiceHandle<typeof SessionJobSchema, SessionDeps, SandboxProvider>;

/** Session jobs create and destroy a tab's agent session in its task's sandbox. */
const sessionCreator: WorkerKind<typeof SessionJobSchema, SessionDeps, SandboxProvider> = {
  stream: Streams.sessions,
  schema: SessionJobSchema,
  handle: handleSession,
  onFailure: onSessionFailure,
  logIds: (job) => ({ org: job.org, task: job.task, tab: job.tab, op: job.op }),
  // Besides the flow's transitions, a session job reads the tab and the task directly.
  deps: (bus, provider, _config, metrics) => {
    const flow = TabFlow.onBus(bus);
    const access = workerSandboxAccess(bus, provider); // its NATS user may read the credentials, not write them
    return { tabs: flow.tabs, tasks: flow.tasks, flow, provider: access, onReady: metrics.timeToReady };
  },
};

/** Runs the `session-creator` durable consumer; any number of processes share it. */
export const startSessionCreator = (
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<SessionCreatorHandle> => startProviderWorker(config, logger, sessionCreator, opts.provider);
