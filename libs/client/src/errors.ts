import { ErrorCode, type Problem, ProblemSchema, TabmeshError } from '@tabmesh/contracts';

/**
 * The gateway answered with an error. Built from its problem+json body when there is one, so
 * callers branch on `code` (stable) or `status`, never on `detail` (human text).
 */
export class TabmeshHttpError extends TabmeshError {
  override name = 'TabmeshHttpError';
  readonly status: number;
  readonly detail: string;
  readonly requestId: string | null;
  /** The parsed problem document; null when the body was not one (a proxy's HTML page, say). */
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallbackDetail: string, requestId: string | null) {
    const code = problem?.code ?? codeOfStatus(status);
    const detail = problem?.detail ?? fallbackDetail;
    super(code, detail, { retryable: status >= 500 || code === ErrorCode.Unavailable });
    this.status = status;
    this.detail = detail;
    this.requestId = problem?.requestId ?? requestId;
    this.problem = problem;
  }

  override get httpStatus(): number {
    return this.status;
  }

  /** Reads a failed response: problem+json when it parses, else its status line. */
  static async fromResponse(res: Response): Promise<TabmeshHttpError> {
    const text = await res.text().catch(() => '');
    let problem: Problem | null = null;
    try {
      const parsed = ProblemSchema.safeParse(JSON.parse(text));
      if (parsed.success) problem = parsed.data;
    } catch {
      // not JSON: keep the status line
    }
    const fallback = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return new TabmeshHttpError(res.status, problem, fallback, res.headers.get('x-request-id'));
  }
}

/**
 * The code of a failure without a problem body (a proxy in front, an older gateway): the access
 * statuses keep their meaning, so a page can still tell "sign in again" from a bad request.
 */
function codeOfStatus(status: number): ErrorCode {
  if (status >= 500) return ErrorCode.Unavailable;
  if (status === 401) return ErrorCode.Unauthenticated;
  if (status === 403) return ErrorCode.Forbidden;
  return ErrorCode.InvalidRequest;
}

/** The gateway could not be reached at all (network down, DNS, refused). */
export class NetworkError extends TabmeshError {
  override name = 'NetworkError';
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.Unavailable, message, { retryable: true, cause });
  }
}

/** The gateway sent a response or frame that its own contract rejects. */
export class ProtocolError extends TabmeshError {
  override name = 'ProtocolError';
  constructor(message: string, details?: unknown) {
    super(ErrorCode.Internal, message, { details });
  }
}
