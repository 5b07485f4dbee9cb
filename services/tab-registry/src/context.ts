import type { JetStreamClient } from '@nats-io/jetstream';
import type { TabRecord, TaskRecord } from '@tabmesh/contracts';
import type { Config, Logger, TabFlow, TabStore, TaskStore, TypedBucket, Versioned } from '@tabmesh/runtime';
import type { z } from 'zod';
import type { SessionDestroys } from './session-destroys.js';
import type { TabSlots } from './tab-slots.js';

/** What every request handler of tab-registry works with. */
export type RegistryContext = {
  config: Config;
  js: JetStreamClient;
  tabs: TabStore;
  tasks: TaskStore;
  requests: TypedBucket<z.ZodString>;
  flow: TabFlow;
  /** Open tabs per task, for TABMESH_MAX_TABS_PER_TASK. */
  slots: TabSlots;
  /** The destroy jobs of closed tabs' sessions, one per task for closes that arrive together. */
  destroys: SessionDestroys;
  /**
   * The task as the registry's watch of `tasks` last saw it (undefined: not lately). Only what a new
   * tab starts from: whether the tab moves on is decided on a fresh read after it is written.
   */
  seenTask: (org: string, task: string) => TaskRecord | undefined;
  /** An open tab as the registry's watch of `tabs` last saw it, if written lately: where a close starts. */
  recentTab: (key: string) => Versioned<TabRecord> | undefined;
};

export type RequestMeta = { correlationId: string; logger: Logger };
