import { ErrorCode, TabmeshError } from '@tabmesh/contracts';

/**
 * Why a request was refused, in words safe to show the caller. Nothing more specific goes out:
 * which check failed is in `cause` and in the gateway's log, never the token itself.
 */
export const RefusalReason = {
  Missing: 'missing bearer token',
  Expired: 'token expired',
  Invalid: 'invalid token',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

/** No token, or one that is malformed, expired or badly signed: 401. */
export class UnauthenticatedError extends TabmeshError {
  override name = 'UnauthenticatedError';
  constructor(
    readonly reason: RefusalReason,
    cause?: unknown,
  ) {
    super(ErrorCode.Unauthenticated, reason, { cause });
  }

  /** The verifier's own code for the failure (e.g. `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`), for logs. */
  get check(): string | undefined {
    const cause = this.cause as { code?: unknown } | undefined;
    return typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** A valid token that may not do this (another org, a page of a foreign origin): 403. */
export class ForbiddenError extends TabmeshError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}
