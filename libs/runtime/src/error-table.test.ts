import {
  JetStreamApiCodes,
  JetStreamApiError,
  JetStreamError,
  JetStreamStatusError,
  jserrors,
} from '@nats-io/jetstream/internal';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  NoRespondersError,
  PermissionViolationError,
  ProtocolError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import {
  ErrorCode,
  type ErrorInfo,
  InvalidTransitionError,
  LimitReachedError,
  NotFoundError,
  TabmeshError,
  UnavailableError,
  ValidationError,
  WriteConflictError,
} from '@tabmesh/contracts';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config.js';
import {
  errorInfoOf,
  hasErrorCode,
  isBusOutage,
  isConsumerExists,
  isRetryable,
  isStreamNameInUse,
  isWrongLastSequence,
} from './error-table.js';

const api = (status: number, errCode: number) =>
  new JetStreamApiError({ code: status, err_code: errCode, description: `api ${errCode}` });

type Row = {
  what: string;
  err: unknown;
  outage?: boolean;
  wrongLastSequence?: boolean;
  streamNameInUse?: boolean;
  consumerExists?: boolean;
  retryable: boolean;
};

// Every question for every kind of error a caller can meet; a row states only its "yes" answers.
const table: Row[] = [
  { what: 'TimeoutError', err: new TimeoutError(), outage: true, retryable: true },
  { what: 'NoRespondersError', err: new NoRespondersError('tab.create'), outage: true, retryable: true },
  {
    what: 'RequestError (no responders)',
    err: new RequestError('no responders', { cause: new NoRespondersError('x') }),
    outage: true,
    retryable: true,
  },
  { what: 'ConnectionError', err: new ConnectionError('connection refused'), outage: true, retryable: true },
  { what: 'ClosedConnectionError', err: new ClosedConnectionError(), outage: true, retryable: true },
  { what: 'DrainingConnectionError', err: new DrainingConnectionError(), outage: true, retryable: true },
  {
    what: 'JetStreamNotEnabled',
    err: new jserrors.JetStreamNotEnabled('jetstream is not enabled'),
    outage: true,
    retryable: true,
  },
  {
    what: 'JetStreamError (heartbeats missed)',
    err: new JetStreamError('heartbeats missed'),
    outage: true,
    retryable: true,
  },
  {
    what: 'JetStreamStatusError 503',
    err: new JetStreamStatusError('no responders', 503),
    outage: true,
    retryable: true,
  },
  { what: 'JetStreamApiError 503', err: api(503, 10008), outage: true, retryable: true },
  {
    what: 'JetStreamApiError wrong last sequence',
    err: api(400, JetStreamApiCodes.StreamWrongLastSequence),
    wrongLastSequence: true,
    retryable: true,
  },
  {
    what: 'JetStreamApiError wrong last sequence (unknown)',
    err: api(400, JetStreamApiCodes.StreamWrongLastSequenceUnknown),
    wrongLastSequence: true,
    retryable: true,
  },
  { what: 'JetStreamApiError stream name in use', err: api(400, 10058), streamNameInUse: true, retryable: true },
  { what: 'JetStreamApiError consumer already exists', err: api(400, 10148), consumerExists: true, retryable: true },
  { what: 'JetStreamApiError consumer name exists', err: api(400, 10013), consumerExists: true, retryable: true },
  {
    what: 'JetStreamApiError stream not found',
    err: new jserrors.StreamNotFoundError({ code: 404, err_code: 10059, description: 'stream not found' }),
    retryable: true,
  },
  { what: 'AuthorizationError', err: new AuthorizationError('authorization violation'), retryable: true },
  {
    what: 'PermissionViolationError',
    err: new PermissionViolationError('denied', 'publish', 'tab.create'),
    retryable: true,
  },
  { what: 'ProtocolError', err: new ProtocolError('bad'), retryable: true },
  { what: 'InvalidArgumentError', err: new InvalidArgumentError('bad'), retryable: true },
  { what: 'ValidationError', err: new ValidationError('bad body'), retryable: false },
  { what: 'NotFoundError', err: new NotFoundError('no tab'), retryable: false },
  { what: 'InvalidTransitionError', err: new InvalidTransitionError('closed'), retryable: false },
  { what: 'UnavailableError', err: new UnavailableError('registry down'), retryable: true },
  { what: 'WriteConflictError', err: new WriteConflictError('tabs o.t.x', 20), retryable: true },
  { what: 'ConfigError', err: new ConfigError(['NATS_URL'], 'bad'), retryable: false },
  {
    what: 'TabmeshError retryable',
    err: new TabmeshError(ErrorCode.SessionFailed, 'refused', { retryable: true }),
    retryable: true,
  },
  {
    what: 'TabmeshError not retryable',
    err: new TabmeshError(ErrorCode.SessionRefused, 'unsupported agent'),
    retryable: false,
  },
  { what: 'plain Error', err: new Error('boom'), retryable: true },
  { what: 'a string', err: 'not an error', retryable: true },
  { what: 'undefined', err: undefined, retryable: true },
];

describe('the error table', () => {
  it.each(table)('$what', (row) => {
    expect(isBusOutage(row.err)).toBe(row.outage ?? false);
    expect(isWrongLastSequence(row.err)).toBe(row.wrongLastSequence ?? false);
    expect(isStreamNameInUse(row.err)).toBe(row.streamNameInUse ?? false);
    expect(isConsumerExists(row.err)).toBe(row.consumerExists ?? false);
    expect(isRetryable(row.err)).toBe(row.retryable);
  });

  it('hasErrorCode asks a typed error for its code, and nothing else', () => {
    expect(hasErrorCode(new TabmeshError(ErrorCode.SandboxGone, 'gone'), ErrorCode.SandboxGone)).toBe(true);
    expect(hasErrorCode(new NotFoundError('x'), ErrorCode.SandboxGone)).toBe(false);
    expect(hasErrorCode(Object.assign(new Error('x'), { code: 'sandbox_gone' }), ErrorCode.SandboxGone)).toBe(false);
  });

  it('errorInfoOf keeps a typed error whole and gives anything else the fallback code, retryable', () => {
    expect(errorInfoOf(new TabmeshError(ErrorCode.SessionRefused, 'no'), ErrorCode.SessionFailed)).toEqual({
      code: ErrorCode.SessionRefused,
      message: 'no',
      retryable: false,
    });
    expect(errorInfoOf(new Error('boom'), ErrorCode.ProvisionFailed)).toEqual({
      code: ErrorCode.ProvisionFailed,
      message: 'boom',
      retryable: true,
    });
    expect(errorInfoOf('odd', ErrorCode.SessionFailed)).toEqual({
      code: ErrorCode.SessionFailed,
      message: 'odd',
      retryable: true,
    });
  });
});

describe('TabmeshError.fromInfo', () => {
  const classes: [TabmeshError, new (...args: never[]) => TabmeshError][] = [
    [new ValidationError('bad body'), ValidationError],
    [new NotFoundError('no tab'), NotFoundError],
    [new InvalidTransitionError('closed'), InvalidTransitionError],
    [new UnavailableError('registry down'), UnavailableError],
    // Crosses the bus as `unavailable` and comes back as what it means to a caller.
    [new WriteConflictError('tabs o.t.x', 20), UnavailableError],
    // The wait, when known, crosses too (it becomes Retry-After at the gateway).
    [new LimitReachedError('rate limit', 3), LimitReachedError],
    [new LimitReachedError('tabs per task'), LimitReachedError],
  ];

  it.each(classes)('rebuilds %s as its class with code, message and retryability', (err, cls) => {
    const back = TabmeshError.fromInfo(err.toInfo());
    expect(back).toBeInstanceOf(cls);
    expect(back.toInfo()).toEqual(err.toInfo());
    expect(back.httpStatus).toBe(err.httpStatus);
  });

  it('carries every other code whole as a TabmeshError', () => {
    for (const code of Object.values(ErrorCode)) {
      for (const retryable of [true, false]) {
        const info: ErrorInfo = { code, message: `m ${code}`, retryable };
        const back = TabmeshError.fromInfo(info);
        expect(back).toBeInstanceOf(TabmeshError);
        expect(back.code).toBe(code);
        expect(back.message).toBe(info.message);
        // Classes that fix retryability: validation, not-found and transition never, unavailable always.
        const fixed: Partial<Record<ErrorCode, boolean>> = {
          invalid_request: false,
          not_found: false,
          invalid_transition: false,
          unavailable: true,
          // Without a known wait, a limit is not retryable: room has to be made first.
          limit_reached: false,
        };
        expect(back.retryable).toBe(fixed[code] ?? retryable);
      }
    }
  });
});
