// The HTTP API's logic (admin conversation management, message and receipt reads), in the core so
// that the simulator exercises it too. The runtime parses URLs, bodies and tokens; this decides.

import { ErrorCode, httpStatusOf } from '../protocol/codes.ts';
import { isId, protocolLimits } from '../protocol/limits.ts';
import type { ConversationRecord } from '../store/message-store.ts';
import { type Conversation, type ReadWindow, readPage, windowNow } from './conversation.ts';
import type { StoreOp } from './effects.ts';
import type { HttpRequest, StoreOutcome } from './inputs.ts';

export type HttpPending =
  | { kind: 'httpCreate'; req: number }
  | { kind: 'httpMembers'; req: number }
  | {
      kind: 'httpRead';
      req: number;
      window: ReadWindow;
      limit: number;
      request: HttpRequest;
      conv: string;
      user: string;
    }
  /**
   * Reading a conversation's record before refusing the request by what this node knows, or before
   * answering its cursors.
   */
  | { kind: 'httpRecheck'; req: number; request: HttpRequest; conv: string };

export type HttpContext = {
  convs: ReadonlyMap<string, Conversation>;
  reply(req: number, status: number, body: unknown): void;
  storeOp(op: StoreOp, pending: HttpPending): void;
  applyRecord(record: ConversationRecord): void;
  /** Takes a record read from the store (it changed nothing there, so nothing is published). */
  learnRecord(record: ConversationRecord): void;
  /** Handles the request again, after its recheck: this time a refusal is final. */
  rehandle(req: number, request: HttpRequest): void;
  /**
   * Whether this node's view may lag the store's, so that a refusal by its membership is first checked
   * against the store's record, and cursors are answered from it: a fleet node's lags by the bus (a
   * conversation created or a member added through another node, a cursor move it never heard of),
   * unless this request is already that second look.
   */
  recheck: boolean;
};

const membersMax = 100_000;
const httpReadLimitDefault = 100;

function error(ctx: HttpContext, req: number, code: ErrorCode, message: string): void {
  ctx.reply(req, httpStatusOf[code], { code, message });
}

export function handleHttp(ctx: HttpContext, req: number, request: HttpRequest): void {
  const { method, path, principal } = request;
  const parts = path.split('/').filter((part) => part.length > 0);
  if (parts[0] !== 'v1') return error(ctx, req, ErrorCode.notFound, `no route ${method} ${path}`);
  if (principal.kind === 'none')
    return error(ctx, req, ErrorCode.unauthorized, 'send Authorization: Bearer <jwt>');
  if (principal.kind === 'invalid')
    return error(ctx, req, ErrorCode.unauthorized, `invalid token: ${principal.reason}`);
  if (request.bodyError !== undefined) return error(ctx, req, ErrorCode.badRequest, request.bodyError);

  if (parts[1] === 'admin' && parts[2] === 'conversations') {
    if (!principal.admin)
      return error(ctx, req, ErrorCode.forbidden, 'this endpoint needs a token with role "admin"');
    if (method === 'POST' && parts.length === 3) return createConversation(ctx, req, request.body);
    if (method === 'POST' && parts.length === 5 && parts[4] === 'members') {
      if (!ctx.convs.has(parts[3]!)) return refuse(ctx, req, request, parts[3]!, ErrorCode.notFound);
      return changeMembers(ctx, req, parts[3]!, request.body);
    }
  }
  if (parts[1] === 'conversations' && parts.length === 4 && method === 'GET') {
    const conv = ctx.convs.get(parts[2]!);
    if (conv === undefined) return refuse(ctx, req, request, parts[2]!, ErrorCode.notFound);
    if (parts[3] === 'messages') {
      if (conv.readWindow(principal.sub, 0) === null)
        return refuse(ctx, req, request, conv.id, ErrorCode.forbidden);
      return readMessages(ctx, req, conv, principal.sub, request);
    }
    if (parts[3] === 'receipts') {
      // The store's record is the truth about cursors. A fleet node's lag the store's by the bus, and a
      // move no node published stays unheard of here for good (its writer got `unavailable` though the
      // store took it; it landed between this node's load and its subscription): a fleet node reads the
      // record first, learns from it, and answers by it (swarm seeds 16320581645988, 46813000823462).
      if (ctx.recheck) return readRecordFirst(ctx, req, request, conv.id);
      if (!conv.isMember(principal.sub)) return refuse(ctx, req, request, conv.id, ErrorCode.forbidden);
      return receipts(ctx, req, conv);
    }
  }
  return error(ctx, req, ErrorCode.notFound, `no route ${method} ${path}`);
}

/**
 * Refuses a request by this node's view of a conversation: not_found (unknown here) or forbidden (not
 * a member). A fleet node first reads the record from the store and handles the request again: what
 * was answered through another node binds this one at once (ChatNode.recheckBeforeRefusing).
 */
function refuse(
  ctx: HttpContext,
  req: number,
  request: HttpRequest,
  conv: string,
  code: typeof ErrorCode.notFound | typeof ErrorCode.forbidden,
): void {
  if (ctx.recheck) return readRecordFirst(ctx, req, request, conv);
  if (code === ErrorCode.notFound) return error(ctx, req, code, `no conversation ${conv}`);
  return error(ctx, req, code, `not a member of ${conv}`);
}

/** Reads the conversation's record from the store, learns from it, then handles the request again. */
function readRecordFirst(ctx: HttpContext, req: number, request: HttpRequest, conv: string): void {
  ctx.storeOp({ kind: 'records', convs: [conv] }, { kind: 'httpRecheck', req, request, conv });
}

function idList(value: unknown): string[] | null {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > membersMax || !value.every(isId)) return null;
  return [...new Set(value as string[])];
}

function createConversation(ctx: HttpContext, req: number, body: unknown): void {
  const { id, kind, members } = (body ?? {}) as Record<string, unknown>;
  if (!isId(id))
    return error(ctx, req, ErrorCode.badRequest, 'body.id must be an id (1-64 of [A-Za-z0-9_.:-])');
  if (kind !== 'direct' && kind !== 'group')
    return error(ctx, req, ErrorCode.badRequest, 'body.kind must be "direct" or "group"');
  const list = idList(members);
  if (list === null || list.length === 0)
    return error(ctx, req, ErrorCode.badRequest, `body.members must be an array of 1-${membersMax} user ids`);
  if (kind === 'direct' && list.length !== 2)
    return error(ctx, req, ErrorCode.badRequest, 'a direct conversation has exactly two distinct members');
  ctx.storeOp({ kind: 'create', request: { id, kind, members: list } }, { kind: 'httpCreate', req });
}

function changeMembers(ctx: HttpContext, req: number, convId: string, body: unknown): void {
  const { add, remove } = (body ?? {}) as Record<string, unknown>;
  const addList = idList(add);
  const removeList = idList(remove);
  if (addList === null || removeList === null)
    return error(ctx, req, ErrorCode.badRequest, 'body.add and body.remove must be arrays of user ids');
  if (addList.length + removeList.length === 0)
    return error(ctx, req, ErrorCode.badRequest, 'body needs a non-empty add or remove');
  ctx.storeOp(
    { kind: 'members', request: { conv: convId, add: addList, remove: removeList } },
    { kind: 'httpMembers', req },
  );
}

function readMessages(
  ctx: HttpContext,
  req: number,
  conv: Conversation,
  user: string,
  request: HttpRequest,
): void {
  const { query } = request;
  const after = query.after === undefined ? 0 : Number(query.after);
  const limit = query.limit === undefined ? httpReadLimitDefault : Number(query.limit);
  if (!Number.isSafeInteger(after) || after < 0)
    return error(ctx, req, ErrorCode.badRequest, 'after must be a seq (integer >= 0)');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > protocolLimits.syncLimitMax)
    return error(
      ctx,
      req,
      ErrorCode.badRequest,
      `limit must be an integer from 1 to ${protocolLimits.syncLimitMax}`,
    );
  const window = conv.readWindow(user, after);
  if (window === null) return error(ctx, req, ErrorCode.forbidden, `not a member of ${conv.id}`);
  ctx.storeOp(
    { kind: 'read', request: { conv: conv.id, after: window.after, limit } },
    { kind: 'httpRead', req, window, limit, request, conv: conv.id, user },
  );
}

function receipts(ctx: HttpContext, req: number, conv: Conversation): void {
  const members = [...conv.current.keys()]
    .sort()
    .map((member) => ({ user: member, ...conv.cursorOf(member) }));
  ctx.reply(req, 200, { conv: conv.id, lastSeq: conv.lastSeq, members });
}

function summary(record: ConversationRecord): unknown {
  const members = Object.entries(record.members)
    .filter(([, spans]) => spans[spans.length - 1]?.to === null)
    .map(([user]) => user)
    .sort();
  return { id: record.id, kind: record.kind, members, lastSeq: record.lastSeq };
}

export function httpStoreResult(ctx: HttpContext, pending: HttpPending, outcome: StoreOutcome): void {
  const { req } = pending;
  if (outcome.status === 'unavailable')
    return error(ctx, req, ErrorCode.unavailable, 'the store is unavailable: retry');
  if (pending.kind === 'httpRecheck') {
    if (!('records' in outcome)) return error(ctx, req, ErrorCode.unavailable, 'unexpected store answer');
    for (const record of outcome.records) ctx.learnRecord(record);
    return ctx.rehandle(req, pending.request);
  }
  if (outcome.status === 'not_found') return error(ctx, req, ErrorCode.notFound, 'no such conversation');
  if (pending.kind === 'httpRead') {
    if (!('messages' in outcome)) return error(ctx, req, ErrorCode.unavailable, 'unexpected store answer');
    // Answered under a membership change this node has not heard of (made through another node): the
    // reader may have been removed or re-added. Read the record and handle the request again by it.
    const conv = ctx.convs.get(pending.conv);
    const known = conv?.membersVersion ?? Number.POSITIVE_INFINITY;
    if (outcome.membersVersion !== undefined && outcome.membersVersion > known)
      return readRecordFirst(ctx, req, pending.request, pending.conv);
    const window = windowNow(conv, pending.user, pending.window);
    const page = readPage(window, pending.limit, outcome.messages, outcome.lastSeq);
    return ctx.reply(req, 200, { messages: page.msgs, lastSeq: page.lastSeq, more: page.more });
  }
  if (!('conversation' in outcome)) {
    const message =
      pending.kind === 'httpMembers'
        ? 'the members of a direct conversation cannot change'
        : 'conversation id taken';
    return error(ctx, req, ErrorCode.conflict, message);
  }
  if (outcome.status === 'conflict')
    return error(ctx, req, ErrorCode.conflict, 'conversation id taken with another kind or other members');
  ctx.applyRecord(outcome.conversation);
  ctx.reply(req, outcome.status === 'created' ? 201 : 200, summary(outcome.conversation));
}
