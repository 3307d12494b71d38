// The client frames of protocol v1, checked field by field. A frame is either valid (and typed) or
// refused with the code protocol.md prescribes: `too_large` for a well-formed send whose body is over
// 4096 UTF-8 bytes, `bad_request` for everything else. Unknown extra fields (`tp`, future additions)
// are ignored.

import { fixedLimits } from './limits.ts';

export type ClientFrame =
  | { t: 'hello'; token: unknown; device?: string; resume?: Record<string, number> }
  | { t: 'send'; conv: string; cmid: string; body: string }
  | { t: 'sync'; conv: string; after: number; limit: number }
  | { t: 'delivered' | 'read'; conv: string; seq: number }
  | { t: 'typing'; conv: string; on: boolean }
  | { t: 'watch'; users: string[] };

export type Refusal = { code: 'bad_request' | 'too_large'; message: string; ref?: string };

const idPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && idPattern.test(value);
}

/** A seq a client may name: 0 (before the first message) or a positive safe integer. */
export function isSeqOrZero(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Parses one text frame; `null` when it is not a JSON object with a string `t`. */
export function parseFrame(text: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return typeof (value as { t?: unknown }).t === 'string' ? (value as Record<string, unknown>) : null;
}

/** Checks a parsed frame (not a hello: `checkHello` judges those). */
export function checkFrame(value: Record<string, unknown>): ClientFrame | Refusal {
  const t = value.t as string;
  const bad = (message: string, ref: string = isId(value.cmid) ? value.cmid : t): Refusal => ({
    code: 'bad_request',
    message,
    ref,
  });
  switch (t) {
    case 'send': {
      const { conv, cmid, body } = value;
      if (!isId(conv)) return bad('send.conv must be an id');
      if (!isId(cmid)) return bad('send.cmid must be an id');
      if (typeof body !== 'string') return bad('send.body must be a string');
      if (Buffer.byteLength(body, 'utf8') > fixedLimits.bodyBytesMax)
        return { code: 'too_large', message: `body over ${fixedLimits.bodyBytesMax} UTF-8 bytes`, ref: cmid };
      return { t, conv, cmid, body };
    }
    case 'sync': {
      const { conv, after, limit } = value;
      if (!isId(conv)) return bad('sync.conv must be an id');
      if (!isSeqOrZero(after)) return bad('sync.after must be a seq (an integer >= 0)');
      if (
        limit !== undefined &&
        !(
          Number.isSafeInteger(limit) &&
          (limit as number) >= 1 &&
          (limit as number) <= fixedLimits.syncLimitMax
        )
      )
        return bad(`sync.limit must be an integer from 1 to ${fixedLimits.syncLimitMax}`);
      return { t, conv, after, limit: (limit as number | undefined) ?? fixedLimits.syncLimitMax };
    }
    case 'delivered':
    case 'read': {
      const { conv, seq } = value;
      if (!isId(conv)) return bad(`${t}.conv must be an id`);
      if (!isSeqOrZero(seq)) return bad(`${t}.seq must be a seq (an integer >= 0)`);
      return { t, conv, seq };
    }
    case 'typing': {
      const { conv, on } = value;
      if (!isId(conv)) return bad('typing.conv must be an id');
      if (typeof on !== 'boolean') return bad('typing.on must be a boolean');
      return { t, conv, on };
    }
    case 'watch': {
      const { users } = value;
      if (!Array.isArray(users) || users.length > fixedLimits.watchUsersMax || !users.every(isId))
        return bad(`watch.users must be an array of at most ${fixedLimits.watchUsersMax} user ids`);
      return { t, users };
    }
    case 'hello':
      return bad('already authenticated: hello is only the first frame');
    default:
      return bad('unknown frame type', 'unknown');
  }
}

/** Checks a first frame; `null` when it is not a well-formed hello (the caller closes with 4401). */
export function checkHello(
  value: Record<string, unknown> | null,
): Extract<ClientFrame, { t: 'hello' }> | null {
  if (value?.t !== 'hello') return null;
  const { token, device, resume } = value;
  if (device !== undefined && !(typeof device === 'string' && device.length <= fixedLimits.deviceLengthMax))
    return null;
  if (resume === undefined)
    return device === undefined ? { t: 'hello', token } : { t: 'hello', token, device };
  if (typeof resume !== 'object' || resume === null || Array.isArray(resume)) return null;
  const entries = Object.entries(resume);
  if (entries.length > fixedLimits.resumeConvsMax) return null;
  if (!entries.every(([conv, seq]) => isId(conv) && isSeqOrZero(seq))) return null;
  const checked = Object.fromEntries(entries) as Record<string, number>;
  return device === undefined
    ? { t: 'hello', token, resume: checked }
    : { t: 'hello', token, device, resume: checked };
}
