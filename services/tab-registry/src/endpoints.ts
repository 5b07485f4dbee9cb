import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { QueueGroups, TabmeshError, ErrorCode, decode, encode } from '@tabmesh/contracts';
import { correlationOf, jobLogger, type Logger } from '@tabmesh/runtime';
import type { z } from 'zod';
import type { RequestMeta } from './context.js';

export type Route<Req extends z.ZodType<{ org: string; task: string }>, Rep extends z.ZodType> = {
  subject: string;
  request: Req;
  reply: Rep;
  handle: (req: z.infer<Req>, meta: RequestMeta) => Promise<z.input<Rep>>;
};

/** Errors cross the bus as data; an unexpected one is logged in full and sent as `internal`. */
function errorReply(err: unknown, logger: Logger) {
  if (err instanceof TabmeshError) return { v: 1 as const, ok: false as const, error: err.toInfo() };
  logger.error({ err }, 'request failed');
  return {
    v: 1 as const,
    ok: false as const,
    error: { code: ErrorCode.Internal, message: 'internal error', retryable: true },
  };
}

/** Serves one request subject in the registry's queue group, validating both directions. */
export function serve<Req extends z.ZodType<{ org: string; task: string }>, Rep extends z.ZodType>(
  nc: NatsConnection,
  route: Route<Req, Rep>,
  logger: Logger,
  inFlight: Set<Promise<unknown>>,
): Subscription {
  return nc.subscribe(route.subject, {
    queue: QueueGroups.tabRegistry,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err, subject: route.subject }, 'subscription error');
        return;
      }
      const p = answer(msg, route, logger).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
  });
}

async function answer<Req extends z.ZodType<{ org: string; task: string }>, Rep extends z.ZodType>(msg: Msg, route: Route<Req, Rep>, logger: Logger) {
  const correlationId = correlationOf(msg.headers);
  const log = jobLogger(logger, { correlationId, subject: route.subject });
  let reply: unknown;
  try {
    const req = decode(route.request, msg.data, route.subject);
    const meta: RequestMeta = { correlationId, logger: jobLogger(log, { org: req.org, task: req.task }) };
    reply = await route.handle(req, meta);
  } catch (err) {
    if (err instanceof TabmeshError && err.code === ErrorCode.InvalidRequest) log.warn({ err: err.message }, 'bad request');
    reply = errorReply(err, log);
  }
  try {
    msg.respond(encode(route.reply, reply as z.input<Rep>, `${route.subject} reply`));
  } catch (err) {
    log.error({ err }, 'reply failed');
    msg.respond(encode(route.reply, errorReply(err, log) as z.input<Rep>, `${route.subject} reply`));
  }
}
