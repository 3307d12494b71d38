// The one gate untrusted client input passes: text (or an already-decoded value, for the simulator)
// becomes a typed ClientFrame or a reason it is not one. Hand-written checks: this runs for every
// frame, so it must not allocate beyond the frame itself.

import type { ClientFrame } from './frames.ts';
import { isId, isSeq, protocolLimits } from './limits.ts';

export type FrameVerdict =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: 'bad_request' | 'too_large'; message: string; ref?: string };

const clientTypes = new Set(['hello', 'send', 'sync', 'delivered', 'read', 'typing', 'watch']);

function bad(message: string, ref?: string): FrameVerdict {
  return ref === undefined
    ? { ok: false, code: 'bad_request', message }
    : { ok: false, code: 'bad_request', message, ref };
}

/** UTF-8 length of a JS string without encoding it (lone surrogates count as 3, as TextEncoder does). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

export function decodeFrame(text: string): FrameVerdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('frame is not valid JSON');
  }
  return validateFrame(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateFrame(value: unknown): FrameVerdict {
  if (!isPlainObject(value)) return bad('frame must be a JSON object');
  const t = value.t;
  if (typeof t !== 'string') return bad('frame needs a string field t');
  if (!clientTypes.has(t)) return bad(`unknown frame type ${JSON.stringify(t.slice(0, 32))}`, t.slice(0, 32));
  switch (t) {
    case 'hello':
      return validateHello(value);
    case 'send':
      return validateSend(value);
    case 'sync': {
      if (!isId(value.conv)) return bad('sync.conv must be an id', t);
      if (!isSeq(value.after)) return bad('sync.after must be a non-negative integer', t);
      const limit = value.limit;
      if (limit !== undefined && !(isSeq(limit) && limit >= 1 && limit <= protocolLimits.syncLimitMax))
        return bad(`sync.limit must be an integer from 1 to ${protocolLimits.syncLimitMax}`, t);
      return limit === undefined
        ? { ok: true, frame: { t, conv: value.conv, after: value.after } }
        : { ok: true, frame: { t, conv: value.conv, after: value.after, limit } };
    }
    case 'delivered':
    case 'read':
      if (!isId(value.conv)) return bad(`${t}.conv must be an id`, t);
      if (!isSeq(value.seq)) return bad(`${t}.seq must be a non-negative integer`, t);
      return { ok: true, frame: { t, conv: value.conv, seq: value.seq } };
    case 'typing':
      if (!isId(value.conv)) return bad('typing.conv must be an id', t);
      if (typeof value.on !== 'boolean') return bad('typing.on must be a boolean', t);
      return { ok: true, frame: { t, conv: value.conv, on: value.on } };
    default: {
      const users = value.users;
      if (!Array.isArray(users) || users.length > protocolLimits.watchUsersMax)
        return bad(`watch.users must be an array of at most ${protocolLimits.watchUsersMax} ids`, 'watch');
      for (const user of users) if (!isId(user)) return bad('watch.users must hold ids only', 'watch');
      return { ok: true, frame: { t: 'watch', users: users as string[] } };
    }
  }
}

function validateHello(value: Record<string, unknown>): FrameVerdict {
  const { token, device, resume } = value;
  if (typeof token !== 'string' || token.length === 0 || token.length > protocolLimits.tokenLengthMax)
    return bad('hello.token must be a non-empty string', 'hello');
  if (
    device !== undefined &&
    !(typeof device === 'string' && device.length <= protocolLimits.deviceLengthMax)
  )
    return bad(
      `hello.device must be a string of at most ${protocolLimits.deviceLengthMax} characters`,
      'hello',
    );
  let checkedResume: Record<string, number> | undefined;
  if (resume !== undefined) {
    if (!isPlainObject(resume)) return bad('hello.resume must be an object conv -> seq', 'hello');
    const entries = Object.entries(resume);
    if (entries.length > protocolLimits.resumeConvsMax)
      return bad('hello.resume holds too many conversations', 'hello');
    checkedResume = Object.create(null) as Record<string, number>;
    for (const [conv, seq] of entries) {
      if (!isId(conv) || !isSeq(seq)) return bad('hello.resume must map conversation ids to seqs', 'hello');
      checkedResume[conv] = seq;
    }
  }
  const frame: ClientFrame = { t: 'hello', token };
  if (typeof device === 'string') frame.device = device;
  if (checkedResume) frame.resume = checkedResume;
  return { ok: true, frame };
}

function validateSend(value: Record<string, unknown>): FrameVerdict {
  const { conv, cmid, body } = value;
  const ref = isId(cmid) ? cmid : 'send';
  if (!isId(conv)) return bad('send.conv must be an id', ref);
  if (!isId(cmid)) return bad('send.cmid must be an id', 'send');
  if (typeof body !== 'string') return bad('send.body must be a string', ref);
  if (body.length * 3 > protocolLimits.bodyBytesMax && utf8Bytes(body) > protocolLimits.bodyBytesMax)
    return {
      ok: false,
      code: 'too_large',
      message: `send.body exceeds ${protocolLimits.bodyBytesMax} UTF-8 bytes`,
      ref,
    };
  return { ok: true, frame: { t: 'send', conv, cmid, body } };
}
