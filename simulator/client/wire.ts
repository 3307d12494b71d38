// The client's side of the wire, in one place: every frame a client sends is built here and encoded
// here, and what a server sends is decoded here. The sans-I/O virtual client uses it, and so does every
// other client in the repository (the live driver's sockets and preflight, the conformance tests'
// probe, the benchmark's load clients), so the protocol has one client encoder and decoder.

import type {
  ClientFrame,
  CursorFrame,
  HelloFrame,
  SendFrame,
  ServerFrame,
  SyncFrame,
  TypingClientFrame,
  WatchFrame,
} from '../../reference-server/protocol/frames.ts';

export const clientFrame = {
  hello(token: string, device?: string, resume?: Record<string, number>): HelloFrame {
    const frame: HelloFrame = { t: 'hello', token };
    if (device !== undefined) frame.device = device;
    if (resume !== undefined) frame.resume = resume;
    return frame;
  },
  send(conv: string, cmid: string, body: string): SendFrame {
    return { t: 'send', conv, cmid, body };
  },
  sync(conv: string, after: number, limit?: number): SyncFrame {
    return limit === undefined ? { t: 'sync', conv, after } : { t: 'sync', conv, after, limit };
  },
  cursor(kind: 'delivered' | 'read', conv: string, seq: number): CursorFrame {
    return { t: kind, conv, seq };
  },
  typing(conv: string, on: boolean): TypingClientFrame {
    return { t: 'typing', conv, on };
  },
  watch(users: string[]): WatchFrame {
    return { t: 'watch', users };
  },
};

export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

/**
 * A server frame: one JSON object with a string `t`. Anything else is null (a protocol violation by
 * the server: the caller records or reports it). Fields are the server's to get right: checkers judge them.
 */
export function decodeServerFrame(text: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return typeof (value as { t?: unknown }).t === 'string' ? (value as ServerFrame) : null;
}
