import * as z from 'zod';

/** Stable error codes: clients and services branch on these, never on message text. */
export const ErrorCode = {
  InvalidRequest: 'invalid_request',
  NotFound: 'not_found',
  InvalidTransition: 'invalid_transition',
  Unavailable: 'unavailable',
  Internal: 'internal',
  /** No token, or one that is malformed, expired or badly signed (HTTP 401). */
  Unauthenticated: 'unauthenticated',
  /** A valid token whose `orgs` claim does not cover the org asked for (HTTP 403). */
  Forbidden: 'forbidden',
  ProvisionFailed: 'provision_failed',
  SessionFailed: 'session_failed',
  BinaryMissing: 'binary_missing',
  SandboxStartTimeout: 'sandbox_start_timeout',
  AgentNotInstalled: 'agent_not_installed',
  CredentialsMissing: 'credentials_missing',
  SessionRefused: 'session_refused',
  SandboxGone: 'sandbox_gone',
  /** A setting is missing or malformed at start; the service does not run (never crosses the bus). */
  ConfigInvalid: 'config_invalid',
  /** A request body that is not declared as JSON. */
  UnsupportedMediaType: 'unsupported_media_type',
  /** A bound of the Limits table was reached (tabs per task, ...); nothing was stored. */
  LimitReached: 'limit_reached',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
export const ErrorCodeSchema = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]);

/** Longest `message` a tab or task stores (frames to every subscriber carry it). */
export const MaxErrorMessageLength = 512;

/** Short, one-line text: control characters become spaces, and the rest is clipped to `max`. */
export function clipText(text: string, max: number): string {
  const plain = text.replace(/[\p{Cc}\p{Cs}]/gu, ' ');
  return plain.length <= max ? plain : `${plain.slice(0, max - 1)}…`;
}

/** The error as a record stores it: the message clipped, so one failure cannot swell a snapshot. */
export const storedError = (error: ErrorInfo): ErrorInfo => ({
  ...error,
  message: clipText(error.message, MaxErrorMessageLength),
});

/** An error as data: what crosses the bus, is stored on a tab or task, and reaches clients. */
export const ErrorInfoSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  /** When waiting helps and its length is known: seconds after which a retry may succeed. */
  retryAfterSeconds: z.number().int().min(0).optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

const httpStatusByCode: Partial<Record<ErrorCode, number>> = {
  invalid_request: 400,
  not_found: 404,
  invalid_transition: 409,
  unauthenticated: 401,
  forbidden: 403,
  unavailable: 503,
  unsupported_media_type: 415,
  limit_reached: 429,
};

/** Base class for every tabmesh error; carries a stable code and whether a retry may help. */
export class TabmeshError extends Error {
  override name = 'TabmeshError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown; details?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }

  get httpStatus(): number {
    return httpStatusByCode[this.code] ?? 500;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }

  /**
   * Rebuilds the typed error on the far side of a boundary. Every class in this file that can cross
   * the bus comes back as itself (a WriteConflictError as the UnavailableError it is). The other codes
   * have no behaviour beyond code and `retryable`, so a plain TabmeshError carries them whole: provider
   * failures (ProviderError, libs/providers), `internal` (the gateway's BadReplyError, which never
   * crosses the bus). The gateway's own HTTP errors and the boot-time ConfigError never cross it.
   */
  static fromInfo(info: ErrorInfo): TabmeshError {
    switch (info.code) {
      case ErrorCode.InvalidRequest:
        return new ValidationError(info.message);
      case ErrorCode.NotFound:
        return new NotFoundError(info.message);
      case ErrorCode.InvalidTransition:
        return new InvalidTransitionError(info.message);
      case ErrorCode.Unavailable:
        return new UnavailableError(info.message);
      case ErrorCode.LimitReached:
        return new LimitReachedError(info.message, info.retryAfterSeconds);
      default:
        return new TabmeshError(info.code, info.message, { retryable: info.retryable });
    }
  }
}

export class ValidationError extends TabmeshError {
  override name = 'ValidationError';
  constructor(message: string, details?: unknown) {
    super(ErrorCode.InvalidRequest, message, { details });
  }
}

export class NotFoundError extends TabmeshError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(ErrorCode.NotFound, message);
  }
}

export class InvalidTransitionError extends TabmeshError {
  override name = 'InvalidTransitionError';
  constructor(message: string) {
    super(ErrorCode.InvalidTransition, message);
  }
}

export class UnavailableError extends TabmeshError {
  override name = 'UnavailableError';
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.Unavailable, message, { retryable: true, cause });
  }
}

/**
 * A compare-and-set that kept losing: the record is too contended right now. Retryable, and on the
 * bus and over HTTP it is `unavailable` (retry shortly), which is what it means to a caller.
 */
export class WriteConflictError extends UnavailableError {
  override name = 'WriteConflictError';
  constructor(
    readonly key: string,
    attempts: number,
  ) {
    super(`${key}: gave up after ${attempts} conflicting writes`);
  }
}

/**
 * A caller went past a bound of the Limits table. Not retryable as such: it succeeds only once room
 * is made (a tab closed) or, when `retryAfterSeconds` is known, after that wait.
 */
export class LimitReachedError extends TabmeshError {
  override name = 'LimitReachedError';
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, retryAfterSeconds?: number) {
    super(ErrorCode.LimitReached, message, { retryable: retryAfterSeconds !== undefined });
    this.retryAfterSeconds = retryAfterSeconds;
  }

  override toInfo(): ErrorInfo {
    return this.retryAfterSeconds === undefined
      ? super.toInfo()
      : { ...super.toInfo(), retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** Turns a zod failure into one readable line: "field: problem; other: problem". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
