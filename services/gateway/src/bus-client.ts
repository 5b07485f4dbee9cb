import type { NatsConnection } from '@nats-io/transport-node';
import {
  decode,
  encodeValidated,
  parse,
  Subjects,
  type Tab,
  type TabCreateRequest,
  TabCreateRequestSchema,
  TabmeshError,
  type TabRefRequest,
  TabRefRequestSchema,
  TabReplySchema,
  type TaskRefRequest,
  TaskRefRequestSchema,
  TaskReplySchema,
  type TaskStatus,
  UnavailableError,
  ValidationError,
} from '@tabmesh/contracts';
import { correlationHeaders, type InProcessRequests, withTimeout } from '@tabmesh/runtime';
import type { z } from 'zod';
import { BadReplyError } from './errors.js';

export const DefaultRequestTimeoutMs = 5000;

type RefSubject = typeof Subjects.tabClose | typeof Subjects.tabRetry | typeof Subjects.tabRead;

/**
 * Request/reply to tab-registry. Requests and replies are validated against the contracts;
 * an `{ok:false}` reply is rebuilt into the typed error; no answer in time is `unavailable`.
 * A registry in the same process (the mesh host) is asked directly while it serves, with the same
 * validation and timeout; otherwise, and once it stops, the request goes over the bus.
 */
export class BusClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = DefaultRequestTimeoutMs,
    private readonly inProcess?: InProcessRequests,
  ) {}

  async createTab(req: TabCreateRequest, correlationId: string): Promise<{ tab: Tab; created: boolean }> {
    const reply = await this.call(Subjects.tabCreate, TabCreateRequestSchema, req, TabReplySchema, correlationId);
    if (!reply.ok) throw TabmeshError.fromInfo(reply.error);
    return { tab: reply.tab, created: reply.created };
  }

  async tabRef(subject: RefSubject, req: TabRefRequest, correlationId: string): Promise<Tab> {
    const reply = await this.call(subject, TabRefRequestSchema, req, TabReplySchema, correlationId);
    if (!reply.ok) throw TabmeshError.fromInfo(reply.error);
    return reply.tab;
  }

  async teardownTask(req: TaskRefRequest, correlationId: string): Promise<{ task: TaskStatus; closedTabs: number }> {
    const reply = await this.call(Subjects.taskTeardown, TaskRefRequestSchema, req, TaskReplySchema, correlationId);
    if (!reply.ok) throw TabmeshError.fromInfo(reply.error);
    return { task: reply.task, closedTabs: reply.closedTabs };
  }

  private async call<Q extends z.ZodType, R extends z.ZodType>(
    subject: string,
    _requestSchema: Q,
    request: z.input<Q>,
    replySchema: R,
    correlationId: string,
  ): Promise<z.infer<R>> {
    const registryHere = this.inProcess?.serves(subject) ? this.inProcess : undefined;
    let reply: unknown;
    try {
      reply = registryHere
        ? await withTimeout(
            registryHere.request(subject, request, correlationId),
            this.timeoutMs,
            () => new Error(`timeout after ${this.timeoutMs} ms`),
          )
        : // Built from the validated HTTP input; tab-registry validates it on receipt.
          (
            await this.nc.request(subject, encodeValidated<z.input<Q>>(request), {
              timeout: this.timeoutMs,
              headers: correlationHeaders(correlationId),
            })
          ).data;
    } catch (err) {
      throw new UnavailableError(`${subject}: tab-registry did not answer (${describe(err)})`, err);
    }
    try {
      // A reply from the registry in this process is checked as it is, and zod returns a copy of
      // it: the registry keeps no hold on what the gateway then does with it.
      return reply instanceof Uint8Array
        ? decode(replySchema, reply, `${subject} reply`)
        : parse(replySchema, reply, `${subject} reply`);
    } catch (err) {
      if (err instanceof ValidationError) throw new BadReplyError(err.message, err);
      throw err;
    }
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
