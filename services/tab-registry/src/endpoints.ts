import { type Service, type ServiceMsg, Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decode,
  ErrorCode,
  type ErrorInfo,
  encode,
  encodeValidated,
  parse,
  QueueGroups,
  TabmeshError,
  UnavailableError,
} from '@tabmesh/contracts';
import { correlationOf, type InProcessRequests, isBusOutage, jobLogger, type Logger } from '@tabmesh/runtime';
import type { z } from 'zod';
import type { RequestMeta } from './context.js';

/** One request endpoint: `name` is what `nats micro info` lists, `subject` what it serves. */
export type Route<Req extends z.ZodType<{ org: string; task: string }>, Rep extends z.ZodType> = {
  name: string;
  subject: string;
  request: Req;
  reply: Rep;
  handle: (req: z.infer<Req>, meta: RequestMeta) => Promise<z.input<Rep>>;
};

/** An endpoint named after its subject (`tab.create` is `tab-create`: micro names take no dots). */
export const route = <Req extends z.ZodType<{ org: string; task: string }>, Rep extends z.ZodType>(
  subject: string,
  request: Req,
  reply: Rep,
  handle: Route<Req, Rep>['handle'],
): Route<Req, Rep> => ({ name: subject.replaceAll('.', '-'), subject, request, reply, handle });

// biome-ignore lint/suspicious/noExplicitAny: routes of different request and reply types in one list
export type AnyRoute = Route<any, any>;

export type Endpoints = {
  /** Drains every endpoint, then waits for the handlers still answering. */
  stop: () => Promise<void>;
  running: () => boolean;
  inFlight: () => number;
  /** The same requests for a gateway in this process (the mesh host), answered without the bus. */
  inProcess: InProcessRequests;
};

/** The micro protocol wants a semver; this is services/tab-registry/package.json's. */
const ServiceVersion = '0.1.0';

/**
 * Errors cross the bus as data: the reply is `{ok:false, error}` as before, sent with the micro
 * protocol's error headers. An unexpected error is logged in full and sent as `internal`.
 */
function errorInfo(err: unknown, logger: Logger): { info: ErrorInfo; status: number } {
  if (err instanceof TabmeshError) return { info: err.toInfo(), status: err.httpStatus };
  // A bus outage (a reconnect, a cluster electing JetStream leaders) is the caller's 503, not a bug.
  if (isBusOutage(err)) {
    logger.warn({ err }, 'request failed: bus unavailable');
    const outage = new UnavailableError('the bus is unavailable; retry shortly', err);
    return { info: outage.toInfo(), status: outage.httpStatus };
  }
  logger.error({ err }, 'request failed');
  return { info: { code: ErrorCode.Internal, message: 'internal error', retryable: true }, status: 500 };
}

/**
 * @nats-io/services counts an error only when a handler throws synchronously; ours answer
 * asynchronously, so the error reply is counted on the endpoint's own stats, which the library
 * keeps on its (untyped) handler list. Returns null when a library version has moved them.
 */
function errorCounter(service: Service, name: string): ((err: Error) => void) | null {
  const handlers = (
    service as unknown as { handlers?: Array<{ name?: string; stats?: { countError?: (e: Error) => void } }> }
  ).handlers;
  const stats = handlers?.find((h) => h.name === name)?.stats;
  return typeof stats?.countError === 'function' ? (err) => stats.countError?.(err) : null;
}

/**
 * Serves the routes as one NATS micro service, `tab-registry`, every endpoint in the registry's
 * queue group, so `nats micro ls/info/stats` list it, its endpoints and their request and error
 * counts.
 */
export async function serveEndpoints(nc: NatsConnection, routes: AnyRoute[], logger: Logger): Promise<Endpoints> {
  const service = await new Svcm(nc).add({
    name: 'tab-registry',
    version: ServiceVersion,
    description: 'Tab and task requests of the gateway',
    queue: QueueGroups.tabRegistry,
  });
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    const p = work.finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  };
  const served = new Map<string, AnyRoute>();
  for (const r of routes) {
    let countError: ((err: Error) => void) | null = null;
    service.addEndpoint(r.name, {
      subject: r.subject,
      queue: QueueGroups.tabRegistry,
      handler: (err, msg) => {
        if (err) {
          logger.error({ err, subject: r.subject }, 'endpoint error');
          return;
        }
        void track(answer(msg, r, logger, (e) => countError?.(e)));
      },
    });
    countError = errorCounter(service, r.name);
    if (!countError) logger.warn({ endpoint: r.name }, 'endpoint error counts unavailable in this @nats-io/services');
    served.set(r.subject, r);
  }
  const inProcess: InProcessRequests = {
    serves: (subject) => !service.isStopped && served.has(subject),
    request: (subject, request, correlationId) => {
      const route = served.get(subject);
      if (!route || service.isStopped) return Promise.reject(new UnavailableError(`${subject}: not served here`));
      // Validated as the bus path validates what it decodes; the caller validates the reply likewise.
      // Not in the micro stats: they count the endpoint's bus requests.
      const outcome = handle(route, () => parse(route.request, request, route.subject), correlationId, logger, noCount);
      return track(outcome.then((o) => o.reply));
    },
  };
  let stopped: Promise<void> | null = null;
  return {
    inProcess,
    running: () => !service.isStopped,
    inFlight: () => inFlight.size,
    stop: () =>
      (stopped ??= (async () => {
        await service.stop();
        await Promise.allSettled([...inFlight]);
      })()),
  };
}

const noCount = (_err: Error) => undefined;

type Outcome = { reply: unknown; failure?: { status: number; message: string } };

/**
 * Runs one request through its route, from the bus or from a gateway in this process alike: an
 * error becomes the `{ok:false, error}` reply, with the status the micro protocol's headers carry.
 */
async function handle(
  route: AnyRoute,
  readRequest: () => unknown,
  correlationId: string,
  logger: Logger,
  countError: (err: Error) => void,
): Promise<Outcome> {
  const log = jobLogger(logger, { correlationId, subject: route.subject });
  try {
    const req = readRequest() as { org: string; task: string };
    const meta: RequestMeta = { correlationId, logger: jobLogger(log, { org: req.org, task: req.task }) };
    return { reply: await route.handle(req, meta) };
  } catch (err) {
    if (err instanceof TabmeshError && err.code === ErrorCode.InvalidRequest)
      log.warn({ err: err.message }, 'bad request');
    return failed(err, log, countError);
  }
}

function failed(err: unknown, log: Logger, countError: (err: Error) => void): Outcome {
  const { info, status } = errorInfo(err, log);
  countError(new Error(`${info.code}: ${info.message}`));
  return { reply: { v: 1, ok: false, error: info }, failure: { status, message: info.message } };
}

async function answer(
  msg: ServiceMsg,
  route: AnyRoute,
  logger: Logger,
  countError: (err: Error) => void,
): Promise<void> {
  const correlationId = correlationOf(msg.headers);
  let outcome = await handle(
    route,
    () => decode(route.request, msg.data, route.subject),
    correlationId,
    logger,
    countError,
  );
  let data: Uint8Array | undefined;
  if (!outcome.failure) {
    try {
      // Typed by the route's reply schema and built from validated records; the gateway validates it on receipt.
      data = encodeValidated(outcome.reply);
    } catch (err) {
      const log = jobLogger(logger, { correlationId, subject: route.subject });
      log.error({ err }, 'reply failed');
      outcome = failed(err, log, countError);
    }
  }
  if (outcome.failure) {
    const error = encode(route.reply, outcome.reply, `${route.subject} reply`);
    // A header value is one line; the full message is in the reply data.
    msg.respondError(outcome.failure.status, outcome.failure.message.replace(/[\r\n]+/g, ' '), error);
    return;
  }
  if (data) msg.respond(data);
}
