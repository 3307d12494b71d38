// Error codes and close codes of protocol v1 (docs/protocol.md). Clients and checkers import these
// too, so a code is spelled in exactly one place.

export const ErrorCode = {
  badRequest: 'bad_request',
  forbidden: 'forbidden',
  notFound: 'not_found',
  tooLarge: 'too_large',
  rateLimited: 'rate_limited',
  unavailable: 'unavailable',
  unauthorized: 'unauthorized',
  conflict: 'conflict',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** "Not now": nothing was done, retry the same frame later (a send with the same cmid). */
export function isNotNow(code: string): boolean {
  return code === ErrorCode.rateLimited || code === ErrorCode.unavailable;
}

export const CloseCode = {
  goingAway: 1001,
  frameTooBig: 1009,
  restart: 1012,
  tooManyBadFrames: 4400,
  unauthorized: 4401,
  helloTimeout: 4408,
  slowConsumer: 4509,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** HTTP status for each error code, for the HTTP API's `{code, message}` bodies. */
export const httpStatusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};
