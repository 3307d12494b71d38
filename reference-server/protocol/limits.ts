// Bounds fixed by protocol v1 itself. Server-side defaults that an operator may change live in
// core/limits.ts.

export const protocolLimits = {
  frameBytesMax: 64 * 1024,
  idLengthMax: 64,
  bodyBytesMax: 4096,
  syncLimitMax: 500,
  watchUsersMax: 500,
  deviceLengthMax: 64,
  tokenLengthMax: 8192,
  resumeConvsMax: 10_000,
} as const;

export const idPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= protocolLimits.idLengthMax && idPattern.test(value);
}

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
