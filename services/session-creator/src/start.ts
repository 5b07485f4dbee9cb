import { SessionJobSchema, Streams, type SessionJob } from '@tabmesh/contracts';
import { createProvider, ownSandboxesOnly, type SandboxProvider } from '@tabmesh/providers';
import {
  TabFlow,
  TabStore,
  TaskStore,
  startWorkerService,
  type Config,
  type Logger,
  type WorkerServiceHandle,
} from '@tabmesh/runtime';
import { handleSession, onSessionFailure, type SessionDeps } from './handle-session.js';

export type SessionCreatorHandle = WorkerServiceHandle<typeof SessionJobSchema, SessionDeps> & { provider: SandboxProvider };

/** Runs the `session-creator` durable consumer; any number of processes share it. */
export async function startSessionCreator(
  config: Config,
  logger: Logger,
  opts: { provider?: SandboxProvider } = {},
): Promise<SessionCreatorHandle> {
  const handle = await startWorkerService({
    name: 'session-creator',
    config,
    logger,
    stream: Streams.sessions,
    schema: SessionJobSchema,
    setup: async (bus) => {
      const made = opts.provider ?? (await createProvider(config, { nc: bus.nc }));
      // Every record it is handed must be this provider's: another's fails its job once, nothing touched.
      const provider = ownSandboxesOnly(made);
      const tabs = new TabStore(bus.tabs);
      const tasks = new TaskStore(bus.tasks);
      const deps: SessionDeps = { tabs, tasks, flow: new TabFlow(bus.js, tabs, tasks), provider };
      return { deps, describe: { provider: provider.name }, ...(opts.provider ? {} : { close: () => made.close() }) };
    },
    handle: handleSession,
    onFailure: onSessionFailure,
    logIds: (job: SessionJob) => ({ org: job.org, task: job.task, tab: job.tab, op: job.op }),
  });
  return { ...handle, provider: handle.deps.provider };
}
