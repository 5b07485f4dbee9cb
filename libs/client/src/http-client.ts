import {
  type CreateTabBody,
  CreateTabBodySchema,
  describeZodError,
  parse,
  type Tab,
  type TabListResponse,
  TabListResponseSchema,
  TabResponseSchema,
  TaskResponseSchema,
  type TaskStatus,
  type TeardownResponse,
  TeardownResponseSchema,
} from '@tabmesh/contracts';
import type { z } from 'zod';
import { NetworkError, ProtocolError, TabmeshHttpError } from './errors.js';
import { readToken, type TokenSource } from './token.js';

export type HttpClientOptions = {
  /** Where the gateway's HTTP API lives, e.g. `http://localhost:8080`; in a page, `location.origin`. */
  baseUrl: string;
  /** Defaults to the global fetch (browsers, Node 20). */
  fetch?: typeof fetch;
  /** Sent with every request (a header a proxy in front wants, say). */
  headers?: Record<string, string>;
  /**
   * The bearer token: sent as `Authorization: Bearer <token>` on every request, replacing any
   * `authorization` in `headers`. A provider is called before each request, so a refreshed or
   * replaced token is picked up at once; an error it throws is the call's error.
   * Without a token, the gateway answers 401 (`TabmeshHttpError` with code `unauthenticated`)
   * unless it runs with `TABMESH_AUTH=off`.
   */
  token?: TokenSource;
};

export type CreateTabOptions = Omit<CreateTabBody, 'v'>;

const seg = encodeURIComponent;

/**
 * The gateway's HTTP API, typed. Bodies are checked before they leave, responses are validated
 * against libs/contracts, and failures throw TabmeshHttpError (with the problem's `code`:
 * `unauthenticated` for a missing, expired or refused token, `forbidden` for an org the token does
 * not cover), NetworkError or ProtocolError.
 */
export class TabmeshClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: HttpClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    // Bound, so a browser's window.fetch is not called with another `this`.
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Opens a tab; `created` is false when `clientRequestId` matched an earlier tab (a safe repeat). */
  async createTab(org: string, task: string, options: CreateTabOptions = {}): Promise<{ tab: Tab; created: boolean }> {
    const body = parse(CreateTabBodySchema, options, 'create tab');
    const { data, status } = await this.call('POST', tabsPath(org, task), TabResponseSchema, body);
    return { tab: data.tab, created: status === 201 };
  }

  /** The open tabs of a task and the `tabs` revision they reflect (a bootstrap snapshot). */
  async listTabs(org: string, task: string): Promise<Pick<TabListResponse, 'tabs' | 'revision'>> {
    const { data } = await this.call('GET', tabsPath(org, task), TabListResponseSchema);
    return { tabs: data.tabs, revision: data.revision };
  }

  async getTab(org: string, task: string, tab: string): Promise<Tab> {
    return (await this.call('GET', tabPath(org, task, tab), TabResponseSchema)).data.tab;
  }

  /** Closes a tab in any state, pending ones included; closing twice is fine. */
  async closeTab(org: string, task: string, tab: string): Promise<Tab> {
    return (await this.call('DELETE', tabPath(org, task, tab), TabResponseSchema)).data.tab;
  }

  /** Retries a tab in `error`; any other state is a 409 (`invalid_transition`). */
  async retryTab(org: string, task: string, tab: string): Promise<Tab> {
    return (await this.call('POST', `${tabPath(org, task, tab)}/retry`, TabResponseSchema)).data.tab;
  }

  /** Clears `unread`; reading twice changes nothing. */
  async markRead(org: string, task: string, tab: string): Promise<Tab> {
    return (await this.call('POST', `${tabPath(org, task, tab)}/read`, TabResponseSchema)).data.tab;
  }

  /** The task's provisioning status; a task never seen is `unprovisioned`. */
  async getTask(org: string, task: string): Promise<TaskStatus> {
    return (await this.call('GET', taskPath(org, task), TaskResponseSchema)).data.task;
  }

  /** Closes every tab of the task and destroys its sandbox. */
  async teardownTask(org: string, task: string): Promise<Pick<TeardownResponse, 'task' | 'closedTabs'>> {
    const { data } = await this.call('DELETE', taskPath(org, task), TeardownResponseSchema);
    return { task: data.task, closedTabs: data.closedTabs };
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<{ data: z.infer<S>; status: number }> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Asked before each request; a provider's own error reaches the caller unchanged.
    const token = await readToken(this.opts.token);
    if (token) {
      for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
      headers.authorization = `Bearer ${token}`;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new NetworkError(`${method} ${path}: gateway unreachable`, err);
    }
    if (!res.ok) throw await TabmeshHttpError.fromResponse(res);
    let raw: unknown;
    try {
      raw = await res.json();
    } catch (err) {
      throw new ProtocolError(`${method} ${path}: response is not JSON`, err);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new ProtocolError(`${method} ${path}: ${describeZodError(parsed.error)}`, parsed.error.issues);
    }
    return { data: parsed.data, status: res.status };
  }
}

const taskPath = (org: string, task: string): string => `/v1/orgs/${seg(org)}/tasks/${seg(task)}`;
const tabsPath = (org: string, task: string): string => `${taskPath(org, task)}/tabs`;
const tabPath = (org: string, task: string, tab: string): string => `${tabsPath(org, task)}/${seg(tab)}`;
