import { redactCredentials } from './redact.ts';

/**
 * The error catalogue: every code that crosses a process boundary, with the HTTP status it maps to.
 * On HTTP the body is {"error":{"code","message"}}; on NATS the same JSON travels with service-error headers.
 */
export const ErrorCodes = {
  missingId: 'missing_id',
  ambiguousId: 'ambiguous_id',
  invalidId: 'invalid_id',
  pidNotAllowed: 'pid_not_allowed',
  parameterNotAllowed: 'parameter_not_allowed',
  urlTooLong: 'url_too_long',
  headersTooLarge: 'headers_too_large',
  requestTimeout: 'request_timeout',
  tooManyClientStreams: 'too_many_client_streams',
  tooManyStreams: 'too_many_streams',
  tooManyPlayers: 'too_many_players',
  ringMemoryFull: 'ring_memory_full',
  tooManyConnections: 'too_many_connections',
  tooManyLiveClients: 'too_many_live_clients',
  hostNotAllowed: 'host_not_allowed',
  badRequest: 'bad_request',
  invalidPlaylist: 'invalid_playlist',
  invalidGuide: 'invalid_guide',
  sourceTooLarge: 'source_too_large',
  sourceUnavailable: 'source_unavailable',
  invalidToken: 'invalid_token',
  tokenExists: 'token_exists',
  tokenNotFound: 'token_not_found',
  channelNotFound: 'channel_not_found',
  rangeNotSatisfiable: 'range_not_satisfiable',
  invalidMessage: 'invalid_message',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  streamNotFound: 'stream_not_found',
  contentUnavailable: 'content_unavailable',
  noEngine: 'no_engine_available',
  capacityExhausted: 'capacity_exhausted',
  runtimeUnavailable: 'runtime_unavailable',
  engineTimeout: 'engine_timeout',
  engineError: 'engine_error',
  badMedia: 'bad_media',
  controlPlaneUnavailable: 'control_plane_unavailable',
  notLeader: 'not_leader',
  upgradeInProgress: 'upgrade_in_progress',
  shuttingDown: 'shutting_down',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const statuses: Record<ErrorCode, number> = {
  missing_id: 400,
  ambiguous_id: 400,
  invalid_id: 400,
  pid_not_allowed: 400,
  parameter_not_allowed: 400,
  url_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  too_many_client_streams: 429,
  too_many_streams: 503,
  too_many_players: 503,
  ring_memory_full: 503,
  too_many_connections: 503,
  too_many_live_clients: 503,
  host_not_allowed: 421,
  bad_request: 400,
  invalid_playlist: 422,
  invalid_guide: 502,
  source_too_large: 413,
  source_unavailable: 502,
  invalid_token: 401,
  token_exists: 409,
  token_not_found: 404,
  channel_not_found: 404,
  range_not_satisfiable: 416,
  invalid_message: 400,
  not_found: 404,
  method_not_allowed: 405,
  unauthorized: 401,
  forbidden: 403,
  stream_not_found: 404,
  content_unavailable: 404,
  no_engine_available: 503,
  capacity_exhausted: 503,
  runtime_unavailable: 503,
  engine_timeout: 504,
  engine_error: 502,
  bad_media: 502,
  control_plane_unavailable: 503,
  not_leader: 503,
  upgrade_in_progress: 409,
  shutting_down: 503,
  internal: 500,
};

/** The one place that maps a catalogue code to an HTTP status. */
export function httpStatusOf(code: ErrorCode): number {
  return statuses[code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in statuses;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; retryAfterMs?: number };
}

/**
 * An error that knows its catalogue code; `retryAfterMs` tells callers when trying again makes sense.
 * Its message crosses process boundaries, so URL credentials in it are redacted here, once for all callers.
 */
export class AcefleetError extends Error {
  override readonly name = 'AcefleetError';
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(redactCredentials(message), { cause: opts.cause });
    this.code = code;
    this.retryAfterMs = opts.retryAfterMs;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  get retryable(): boolean {
    return this.retryAfterMs !== undefined || this.status === 503 || this.status === 504;
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.retryAfterMs !== undefined) error.retryAfterMs = this.retryAfterMs;
    return { error };
  }

  static fromBody(body: { error: { code: string; message: string; retryAfterMs?: number } }): AcefleetError {
    const { code, message, retryAfterMs } = body.error;
    return new AcefleetError(isErrorCode(code) ? code : 'internal', message, { retryAfterMs });
  }
}
