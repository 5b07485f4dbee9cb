import { SessionJobSchema, Streams, type SessionJob } from '@tabmesh/contracts';
import { createProvider, type SandboxProvider } from '@tabmesh/providers';
import { TabFlow, TabStore, TaskStore, startWorkerService, type Config, type Logger, type WorkerServiceHandle } from '@tabmesh/runtime';
import { handleSession, onSessionFailure, type SessionDeps } from './handle-session.js';

export type SessionCreatorHandle = WorkerServiceHandle<typeof SessionJobSchema, SessionDeps, SandboxProvider>;

/** Runs the `session-creator` durable consumer; any number of processes share it. */
export function startSessionCreator(config: Config, logger: Logger, opts: { provider?: SandboxProvider } = {}): Promise<SessionCreatorHandle> {
  return startWorkerService(config, logger, {
    name: 'session-creator',
    stream: Streams.sessions,
    schema: SessionJobSchema,
    provider: opts.provider ?? ((bus) => createProvider(config, process.env, { nc: bus.nc })),
    deps: (bus, provider) => {
      const tabs = new TabStore(bus.tabs);
      const tasks = new TaskStore(bus.tasks);
      return { tabs, tasks, flow: new TabFlow(bus.js, tabs, tasks), provider };
    },
    handle: handleSession,
    onFailure: onSessionFailure,
    logIds: (job: SessionJob) => ({ org: job.org, task: job.task, tab: job.tab, op: job.op }),
  });
}
