import { ErrorCode, TabmeshError, ValidationError } from '@tabmesh/contracts';

/** A request body over the gateway's limit: still `invalid_request`, but answered with 413. */
export class PayloadTooLargeError extends ValidationError {
  override name = 'PayloadTooLargeError';
  override get httpStatus(): number {
    return 413;
  }
}

/** No route for this method and path. */
export class RouteNotFoundError extends TabmeshError {
  override name = 'RouteNotFoundError';
  constructor(method: string, path: string) {
    super(ErrorCode.NotFound, `no route for ${method} ${path}`);
  }
}

/** tab-registry answered with something its own contract rejects. */
export class BadReplyError extends TabmeshError {
  override name = 'BadReplyError';
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.Internal, message, { cause });
  }
}

/** A body that is not declared as JSON; refusing it also keeps cross-site form posts out. */
export class UnsupportedMediaTypeError extends TabmeshError {
  override name = 'UnsupportedMediaTypeError';
  constructor(message: string) {
    super(ErrorCode.UnsupportedMediaType, message);
  }
}
