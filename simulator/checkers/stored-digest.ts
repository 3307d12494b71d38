// A stored message as the store-reading final judgements compare it (agreement, durable-ack,
// idempotency): its sender and the hashes of its cmid, its body, its (sender, cmid) and its idempotency
// key. On the checker thread the store's columns hash every message once, as its part arrives
// (stored-columns.ts), where each judgement used to rebuild every message (an object and two strings)
// and hash it again at the end of the run; a final state that does not offer them (in-process, live)
// gives the same digest from its message.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { FinalState } from '../history.ts';
import { hash32, hash32b, keyText } from './string-hash.ts';

export type StoredDigest = {
  from: string;
  /** hash32 of the cmid. */
  cmid: number;
  /** hash32 of the body. */
  body: number;
  /** read-back.ts's identityHash: hash32 of (from, cmid). */
  identity: number;
  /** hash32 and hash32b of the idempotency key (from, conv, cmid) (idempotency.ts). */
  keyA: number;
  keyB: number;
};

/** The digest of `message`, read at `conv` (the key names the conversation it was read at). */
export function digestOf(message: Message, conv: string): StoredDigest {
  const key = keyText(message.from, conv, message.cmid);
  return {
    from: message.from,
    cmid: hash32(message.cmid),
    body: hash32(message.body),
    identity: hash32(keyText(message.from, message.cmid)),
    keyA: hash32(key),
    keyB: hash32b(key),
  };
}

/** The final read's digest at (conv, seq), or undefined where it holds no message. */
export function storedDigest(final: FinalState, conv: string, seq: number): StoredDigest | undefined {
  if (final.storedDigest !== undefined) return final.storedDigest(conv, seq);
  const message = final.storedMessage(conv, seq);
  return message === undefined ? undefined : digestOf(message, conv);
}
