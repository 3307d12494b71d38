// How a load client talks to each kind of server: the first frame it sends, how a send is framed,
// and what an incoming frame means (ready, the answer to one of its sends, a delivery, an error).
// Deliveries are recognised by a byte prefix where the server's key order allows it, so the load
// generator spends its core on sockets rather than JSON.parse; anything else is parsed in full.
// Why the chat dialect is not a driver over the sans-I/O VirtualClient: the benchmark measures the
// server's ceiling, so its client does the least per frame (no reorder buffer, dedup, cursors or
// retries, no parse of a delivery); a full client per socket would make the generator, not the
// server, the limit. It still speaks through the client's own encoder (simulator/client/wire.ts).

import { clientFrame, encodeClientFrame } from '../simulator/client/wire.ts';
import type { ClientSpec, Dialect } from './load-plan.ts';

export type Incoming = {
  ready?: boolean;
  /** The key of the send this frame answers. */
  answers?: string;
  delivery?: boolean;
  errorCode?: string;
};

export type ClientDialect = {
  url(base: string, spec: ClientSpec): string;
  /** The frame to send once open (chat's hello), or null when the open socket is ready. */
  greeting(spec: ClientSpec): string | null;
  /** Frames send number `n`; `key` is what the answer will carry. */
  frame(spec: ClientSpec, n: number, body: string): { key: string; data: string };
  read(spec: ClientSpec, data: Buffer): Incoming;
};

const none: Incoming = {};
const delivery: Incoming = { delivery: true };
const msgPrefix = Buffer.from('{"t":"msg"');

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function parse(data: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const rawEcho: ClientDialect = {
  url: (base) => base,
  greeting: () => null,
  frame: (_spec, n, body) => ({ key: String(n), data: JSON.stringify({ t: 'send', n, body }) }),
  read: (_spec, data) => {
    const frame = parse(data);
    return typeof frame?.n === 'number' ? { answers: String(frame.n) } : none;
  },
};

/** `{"t":"msg","from":"ID","n":` : the start of this client's own broadcast frames. */
const ownPrefixes = new WeakMap<ClientSpec, Buffer>();
function ownPrefix(spec: ClientSpec): Buffer {
  let prefix = ownPrefixes.get(spec);
  if (!prefix) {
    prefix = Buffer.from(`{"t":"msg","from":${JSON.stringify(spec.id)},"n":`);
    ownPrefixes.set(spec, prefix);
  }
  return prefix;
}

const rawBroadcast: ClientDialect = {
  url: (base, spec) => `${base}/?room=${encodeURIComponent(spec.room ?? '')}`,
  greeting: () => null,
  frame: (spec, n, body) => ({ key: String(n), data: JSON.stringify({ t: 'msg', from: spec.id, n, body }) }),
  read: (spec, data) => {
    // Every copy is a delivery; the sender's own copy also answers its send.
    const prefix = ownPrefix(spec);
    if (!startsWith(data, prefix)) return delivery;
    const end = data.indexOf(0x2c /* , */, prefix.length);
    return { delivery: true, answers: data.toString('latin1', prefix.length, end < 0 ? undefined : end) };
  },
};

const chat: ClientDialect = {
  url: (base) => base,
  greeting: (spec) => encodeClientFrame(clientFrame.hello(spec.token ?? '')),
  frame: (spec, n, body) => {
    const cmid = `${spec.id}.${n}`;
    return { key: cmid, data: encodeClientFrame(clientFrame.send(spec.conv ?? '', cmid, body)) };
  },
  read: (_spec, data) => {
    if (startsWith(data, msgPrefix)) return delivery;
    const frame = parse(data);
    switch (frame?.t) {
      case 'welcome':
        return { ready: true };
      case 'ack':
        return typeof frame.cmid === 'string' ? { answers: frame.cmid } : none;
      case 'msg':
        return delivery;
      case 'err':
        return {
          errorCode: typeof frame.code === 'string' ? frame.code : 'unknown',
          ...(typeof frame.ref === 'string' ? { answers: frame.ref } : {}),
        };
      default:
        return none;
    }
  },
};

export const clientDialects: Record<Dialect, ClientDialect> = {
  'raw-echo': rawEcho,
  'raw-broadcast': rawBroadcast,
  chat,
};
