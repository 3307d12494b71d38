// The HTTP side of the minimal server (protocol.md, "HTTP"): health, a small Prometheus exposition,
// the admin endpoints, and member reads. Changes are journal records like the WebSocket side's, and
// every answer goes through the journal's gate, so a 201 or 200 is never sent for a change a crash
// could still undo.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isId } from './frames.ts';
import type { Journal } from './journal.ts';
import { fixedLimits } from './limits.ts';
import type { Sessions } from './sessions.ts';
import type { ChatState, JournalRecord } from './state.ts';
import { type Claims, verifyToken } from './token.ts';

export type HttpApiOptions = {
  state: ChatState;
  journal: Journal;
  sessions: Sessions;
  secret: string;
  isDraining: () => boolean;
};

type Answer = { status: number; body: unknown; contentType?: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function httpHandler(o: HttpApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void answer(o, req)
      .catch((error: unknown): Answer => {
        const e = error instanceof HttpError ? error : new HttpError(503, 'unavailable', String(error));
        return { status: e.status, body: { code: e.code, message: e.message } };
      })
      .then((result) => o.journal.gate(() => reply(res, result)));
  };
}

function reply(res: ServerResponse, { status, body, contentType }: Answer): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType ?? 'application/json' });
  res.end(text);
}

const membersPath = /^\/v1\/admin\/conversations\/([^/]+)\/members$/;
const readPath = /^\/v1\/conversations\/([^/]+)\/(messages|receipts)$/;

async function answer(o: HttpApiOptions, req: IncomingMessage): Promise<Answer> {
  const url = new URL(req.url ?? '/', 'http://minimal');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/healthz') return { status: 200, body: { ok: true } };
  if (req.method === 'GET' && path === '/readyz') {
    if (!o.journal.healthy || o.isDraining())
      throw new HttpError(503, 'unavailable', 'draining, or the journal failed');
    return { status: 200, body: { ok: true } };
  }
  if (req.method === 'GET' && path === '/metrics') return metrics(o);
  if (req.method === 'POST' && path === '/v1/admin/conversations') {
    admin(o, req);
    return create(o, await jsonBody(req));
  }
  const members = req.method === 'POST' ? membersPath.exec(path) : null;
  if (members) {
    admin(o, req);
    return changeMembers(o, decoded(members[1]!), await jsonBody(req));
  }
  const read = req.method === 'GET' ? readPath.exec(path) : null;
  if (!read) throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
  const user = bearer(o, req).user;
  const id = decoded(read[1]!);
  const c = o.state.get(id);
  if (!c) throw new HttpError(404, 'not_found', `no conversation ${id}`);
  if (read[2] === 'receipts') {
    if (!c.members.has(user)) throw new HttpError(403, 'forbidden', `not a member of ${c.id}`);
    const cursors = [...c.members].map((member) => ({ user: member, ...c.cursorsOf(member) }));
    return { status: 200, body: { conv: c.id, lastSeq: c.lastSeq, members: cursors } };
  }
  if (!c.mayRead(user)) throw new HttpError(403, 'forbidden', `never a member of ${c.id}`);
  const after = queryInt(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = queryInt(url, 'limit', fixedLimits.syncLimitMax, 1, fixedLimits.syncLimitMax);
  return { status: 200, body: { messages: c.readable(user, after, limit).msgs, lastSeq: c.lastSeq } };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'bad_request', 'the path is not valid percent-encoding');
  }
}

function create(o: HttpApiOptions, body: Record<string, unknown>): Answer {
  const { id, kind, members } = body;
  if (!isId(id)) throw new HttpError(400, 'bad_request', 'id must be an id');
  if (kind !== 'direct' && kind !== 'group')
    throw new HttpError(400, 'bad_request', 'kind must be "direct" or "group"');
  const users = userList(members, 'members');
  const existing = o.state.get(id);
  if (existing) {
    const same =
      existing.kind === kind &&
      existing.members.size === users.length &&
      users.every((u) => existing.members.has(u));
    if (!same) throw new HttpError(409, 'conflict', `conversation ${id} exists with another definition`);
    return { status: 200, body: { id, kind, members: [...existing.members] } };
  }
  commit(o, { k: 'conv', id, kind, members: users });
  return { status: 201, body: { id, kind, members: users } };
}

function changeMembers(o: HttpApiOptions, id: string, body: Record<string, unknown>): Answer {
  const c = o.state.get(id);
  if (!c) throw new HttpError(404, 'not_found', `no conversation ${id}`);
  const add = body.add === undefined ? [] : userList(body.add, 'add');
  const remove = body.remove === undefined ? [] : userList(body.remove, 'remove');
  if (add.some((user) => remove.includes(user)))
    throw new HttpError(400, 'bad_request', 'a user cannot be both added and removed');
  const record: JournalRecord = {
    k: 'members',
    conv: id,
    add: add.filter((user) => !c.members.has(user)),
    remove: remove.filter((user) => c.members.has(user)),
  };
  if (record.add.length > 0 || record.remove.length > 0) commit(o, record);
  return { status: 200, body: { conv: id, members: [...c.members] } };
}

function commit(o: HttpApiOptions, record: JournalRecord): void {
  o.state.apply(record);
  o.journal.append(record);
}

function userList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length > fixedLimits.adminMembersMax || !value.every(isId))
    throw new HttpError(400, 'bad_request', `${field} must be an array of user ids`);
  return [...new Set(value as string[])];
}

function metrics(o: HttpApiOptions): Answer {
  const lines = [
    '# HELP minimal_connections Open WebSocket connections.',
    '# TYPE minimal_connections gauge',
    `minimal_connections ${o.sessions.connectionCount}`,
    '# HELP minimal_messages_total Messages sequenced since start.',
    '# TYPE minimal_messages_total counter',
    `minimal_messages_total ${o.sessions.stats.messages}`,
    '# HELP minimal_slow_consumer_closes_total Connections closed with 4509.',
    '# TYPE minimal_slow_consumer_closes_total counter',
    `minimal_slow_consumer_closes_total ${o.sessions.stats.slowConsumerCloses}`,
  ];
  return { status: 200, body: `${lines.join('\n')}\n`, contentType: 'text/plain; version=0.0.4' };
}

function bearer(o: HttpApiOptions, req: IncomingMessage): Claims {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  const claims = verifyToken(token, o.secret, Date.now());
  if ('refused' in claims)
    throw new HttpError(401, 'unauthorized', `bearer token refused: ${claims.refused}`);
  return claims;
}

function admin(o: HttpApiOptions, req: IncomingMessage): void {
  if (!bearer(o, req).admin) throw new HttpError(403, 'forbidden', 'this endpoint needs role "admin"');
}

function queryInt(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max)
    throw new HttpError(400, 'bad_request', `${name} must be an integer from ${min} to ${max}`);
  return value;
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes > fixedLimits.httpBodyBytesMax)
      throw new HttpError(413, 'too_large', `request body over ${fixedLimits.httpBodyBytesMax} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'bad_request', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
