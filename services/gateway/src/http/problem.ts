import {
  ErrorCode,
  LimitReachedError,
  type Problem,
  ProblemSchema,
  parse,
  problemType,
  TabmeshError,
} from '@tabmesh/contracts';
import { isBusOutage } from '@tabmesh/runtime';
import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from './app-env.js';

const titles: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.InvalidRequest]: 'Invalid request',
  [ErrorCode.NotFound]: 'Not found',
  [ErrorCode.InvalidTransition]: 'Invalid state transition',
  [ErrorCode.Unavailable]: 'Service unavailable',
  [ErrorCode.Internal]: 'Internal error',
  [ErrorCode.Unauthenticated]: 'Unauthenticated',
  [ErrorCode.Forbidden]: 'Forbidden',
  [ErrorCode.UnsupportedMediaType]: 'Unsupported media type',
  [ErrorCode.LimitReached]: 'Limit reached',
};

export const ProblemContentType = 'application/problem+json';

/** The problem document for an error: typed errors keep their code; anything else is `internal`. */
export function toProblem(err: unknown, instance: string, requestId: string | undefined): Problem {
  let code: ErrorCode = ErrorCode.Internal;
  let status = 500;
  let detail = 'internal error';
  if (err instanceof TabmeshError) {
    code = err.code;
    status = err.httpStatus;
    detail = err.message;
  } else if (isBusOutage(err)) {
    code = ErrorCode.Unavailable;
    status = 503;
    detail = 'NATS is unavailable; retry shortly';
  } else if (err instanceof HTTPException && err.status < 500) {
    code = err.status === 404 ? ErrorCode.NotFound : ErrorCode.InvalidRequest;
    status = err.status;
    detail = err.message || 'invalid request';
  }
  return parse(
    ProblemSchema,
    { type: problemType(code), title: titles[code] ?? code, status, code, detail, instance, requestId },
    'problem',
  );
}

/** The one error handler: every failure leaves as problem+json with the request id. */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const requestId = c.get('requestId');
  const problem = toProblem(err, c.req.path, requestId);
  if (problem.status >= 500) c.get('logger')?.error({ err }, 'request error');
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: {
      'Content-Type': ProblemContentType,
      ...(requestId ? { 'X-Request-Id': requestId } : {}),
      // RFC 6750: a 401 names the scheme the caller should authenticate with.
      ...(problem.code === ErrorCode.Unauthenticated ? { 'WWW-Authenticate': 'Bearer realm="tabmesh"' } : {}),
      ...retryAfterHeader(err),
    },
  });
};

/** `Retry-After` (whole seconds) for a limit whose wait is known; nothing otherwise. */
export function retryAfterHeader(err: unknown): { 'Retry-After'?: string } {
  return err instanceof LimitReachedError && err.retryAfterSeconds !== undefined
    ? { 'Retry-After': String(err.retryAfterSeconds) }
    : {};
}
