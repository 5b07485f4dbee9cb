import { BusIdentities, type BusIdentity, BusPermissions, BusIdentity as Identity } from '@tabmesh/contracts';
import type { Registry } from 'prom-client';
import { type Bus, bindBus, ensureBus, streamsOf } from './bus-setup.js';
import type { Config } from './config.js';
import { ConnectionState } from './connection-state.js';
import { drainConnection, type ServiceHandle } from './lifecycle.js';
import type { Logger } from './logger.js';
import { connectNats, type NatsAuth, natsAuthOf, setupAuthOf } from './nats.js';
import { type OpsListener, startOpsListener } from './ops-listener.js';
import { announceReady } from './ready-signal.js';
import { createMetricsRegistry, registerLifecycleMetrics } from './service-metrics.js';

/** A stop step; what it returns goes on the `drain end` line (a worker's finished/handed-back counts). */
export type StopStep = (() => Promise<void> | void) | (() => Promise<Record<string, unknown>>);

/** What a service's part is started with. */
export type ServiceContext = {
  config: Config;
  logger: Logger;
  bus: Bus;
  connection: ConnectionState;
  /** The service's Prometheus registry; the part adds its own metrics to it. */
  metrics: Registry;
  /**
   * Registers how to stop what was just started. Steps run in reverse order on stop, and also
   * when a later step of the start fails, so the part never leaves something running behind.
   */
  onStop: (step: StopStep) => void;
};

/** The service's part: its endpoints or consumers, running. */
export type ServicePart<H extends object> = {
  /** What the service's handle adds (the worker, the gateway's ports...). */
  handle: H;
  /** Whether the endpoints or consumers still run; part of `/readyz`. */
  running?: () => boolean;
  /** Work under way, for the `drain start` line. */
  inFlight?: () => number;
  /** Ports the part listens on, for the ready signal (the gateway's `http`, `ws`). */
  ports?: Record<string, number>;
  /** Extra fields on the ready line. */
  describe?: Record<string, unknown>;
};

export type ServiceOptions<H extends object> = {
  name: string;
  config: Config;
  logger: Logger;
  start: (ctx: ServiceContext) => Promise<ServicePart<H>>;
  /** The ready line's message; defaults to `<name> ready`. */
  readyMessage?: string;
  /** False for a service that serves the ops routes on its own HTTP port (the gateway). */
  opsListener?: boolean;
};

export type LifecycleReport = { ready: boolean; nats: boolean; bus: boolean; serving: boolean; draining: boolean };

export type RunningService<H extends object> = H &
  ServiceHandle & {
    /** What `/readyz` answers. */
    readiness: () => LifecycleReport;
    /** The Prometheus registry `/metrics` renders (named apart from the gateway's own `metrics`). */
    metricsRegistry: Registry;
    /** The ops listener's bound port; null when the service has none. */
    opsPort: number | null;
  };

/**
 * The bus a service works on. With a setup identity (NATS_SETUP_*), it first sets the bus up on a
 * short-lived connection of that identity; anonymous (an open server), it sets it up itself; then it
 * binds as its own user, which may not create streams, waiting for whoever sets the bus up (`pnpm
 * start`, the test harness, the deploy's tab-registry) to have made what it needs.
 */
async function setUpBus(
  nc: Parameters<typeof ensureBus>[0],
  name: string,
  auth: NatsAuth,
  config: Config,
  logger: Logger,
): Promise<Bus> {
  const setup = setupAuthOf(config);
  if (setup === null && auth === null) return ensureBus(nc, config);
  if (setup !== null) {
    const snc = await connectNats(config.NATS_URL, Identity.Setup, logger, setup);
    try {
      await ensureBus(snc, config);
      logger.info('bus set up');
    } finally {
      await snc.close();
    }
  }
  const identity = BusIdentities.find((i): i is BusIdentity => i === name);
  const needs = identity ? streamsOf(BusPermissions[identity]) : [];
  return bindBus(nc, needs, { onWait: (stream) => logger.warn({ stream }, 'waiting for the bus set-up') });
}

/**
 * The one lifecycle of every tabmesh service: connect to NATS, set up the bus, start the service's
 * part, start the ops listener, announce ready. `stop` (idempotent) turns readiness off at once,
 * stops the part's steps in reverse order, drains the connection, and closes the ops listener
 * last, so probes and scrapes see the drain instead of a refused connection. A failed start
 * undoes whatever it had started and rethrows.
 */
export async function startService<H extends object>(opts: ServiceOptions<H>): Promise<RunningService<H>> {
  const { name, config, logger } = opts;
  const auth = natsAuthOf(config);
  const nc = await connectNats(config.NATS_URL, name, logger, auth);
  const connection = new ConnectionState(nc, logger);
  const metrics = createMetricsRegistry(name);
  const lifecycleMetrics = registerLifecycleMetrics(metrics);
  connection.onReconnect(lifecycleMetrics.reconnected);
  const steps: StopStep[] = [() => drainConnection(nc)];
  let bus: Bus | null = null;
  let part: ServicePart<H> | null = null;
  let ops: OpsListener | null = null;
  let draining = false;

  const readiness = (): LifecycleReport => {
    const report = {
      nats: connection.connected(),
      bus: bus !== null,
      serving: part !== null && (part.running?.() ?? true),
      draining,
    };
    return { ready: report.nats && report.bus && report.serving && !draining, ...report };
  };

  /** Runs every step even when one fails, so the connection is always drained; rethrows the first failure. */
  const unwind = async (): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    let failure: unknown = null;
    for (const step of steps.splice(0).reverse()) {
      try {
        Object.assign(out, (await step()) ?? {});
      } catch (err) {
        logger.error({ err }, 'stop step failed');
        failure ??= err;
      }
    }
    await ops?.close();
    if (failure !== null) throw failure;
    return out;
  };

  try {
    bus = await setUpBus(nc, name, auth, config, logger);
    part = await opts.start({ config, logger, bus, connection, metrics, onStop: (step) => void steps.push(step) });
    if (opts.opsListener !== false) {
      ops = await startOpsListener({ port: config.TABMESH_OPS_PORT, readiness, metrics });
    }
  } catch (err) {
    draining = true;
    await unwind().catch(() => undefined);
    throw err;
  }

  const opsPort = ops?.port ?? null;
  logger.info({ ...part.describe, ...(opsPort === null ? {} : { opsPort }) }, opts.readyMessage ?? `${name} ready`);
  announceReady(name, { ...part.ports, ...(opsPort === null ? {} : { ops: opsPort }) });

  const running = part;
  let stopped: Promise<void> | null = null;
  return {
    ...part.handle,
    readiness,
    metricsRegistry: metrics,
    opsPort,
    stop: () =>
      (stopped ??= (async () => {
        draining = true;
        const t0 = performance.now();
        logger.info({ inFlight: running.inFlight?.() ?? 0 }, 'drain start');
        const result = await unwind();
        const seconds = (performance.now() - t0) / 1000;
        // Observed once the drain is over; the ops listener is closed by then, so a scrape sees
        // it only in a process that stops without exiting (tests); the `drain end` line has it too.
        lifecycleMetrics.drained(seconds);
        logger.info({ ...result, drainSeconds: Number(seconds.toFixed(3)) }, 'drain end');
      })()),
  };
}
