// The core's known-bug variants (bugs.ts), as a ChatNode subclass built in place of the node, so the
// shipped ChatNode carries no test-only branch: it exposes a few decisions as protected methods
// (who gets a push, what a cursor behind the cursor does, who hears of a cursor, what presence hears when
// a connection goes, whether a refusal reads the store's record first; and, for refused-admin-changes,
// the admin's membership route, answered before the node handles it)
// and each bug overrides one. Like the core, this file is sans-I/O.

import { ChatNode, type ChatNodeOptions } from '../core/chat-node.ts';
import type { Conversation } from '../core/conversation.ts';
import type { Effect } from '../core/effects.ts';
import { connectionsOf } from '../core/fanout.ts';
import type { ConnId, Input } from '../core/inputs.ts';
import type { UserId } from '../protocol/frames.ts';
import { type BugName, coreBugs } from './bugs.ts';

export class BuggyChatNode extends ChatNode {
  readonly bugs: ReadonlySet<BugName>;
  private pushes = 0;

  constructor(options: ChatNodeOptions, bugs: Iterable<BugName>) {
    super(options);
    this.bugs = new Set([...bugs].filter((bug) => coreBugs.has(bug)));
  }

  override handle(input: Input, now: number): Effect[] {
    // refused-admin-changes: `POST /v1/admin/conversations/:id/members` answers 404 "no route", as if the
    // route were missing (sampled mutant 1562 did this to every admin route).
    if (
      this.bugs.has('refused-admin-changes') &&
      input.type === 'http' &&
      input.request.method === 'POST' &&
      /^\/v1\/admin\/conversations\/[^/]+\/members$/.test(input.request.path)
    )
      return [
        {
          type: 'reply',
          req: input.req,
          status: 404,
          body: { code: 'not_found', message: `no route POST ${input.request.path}` },
        },
      ];
    return super.handle(input, now);
  }

  protected override pushRecipients(conv: Conversation, seq: number, exclude: ConnId | null): ConnId[] {
    // push-to-removed: everyone who ever was a member, from their first join.
    const to = this.bugs.has('push-to-removed')
      ? connectionsOf(conv.everMembers(), seq, this.connIndex, exclude)
      : super.pushRecipients(conv, seq, exclude);
    // dropped-pushes: every 7th push is not sent.
    if (this.bugs.has('dropped-pushes') && ++this.pushes % 7 === 0) return [];
    return to;
  }

  protected override cursorBehind(
    conv: Conversation,
    user: UserId,
    kind: 'delivered' | 'read',
    target: number,
    from: ConnId,
  ): void {
    // cursor-regression: the regression is taken as news and told to everyone.
    if (!this.bugs.has('cursor-regression')) return;
    conv.cursorOf(user)[kind] = target;
    this.sendReceipt(conv, user, kind, target, from);
  }

  protected override sendReceipt(
    conv: Conversation,
    user: UserId,
    kind: 'delivered' | 'read',
    seq: number,
    skipConn: ConnId | null,
  ): void {
    // no-receipts: a cursor moves, and no member hears of it.
    if (!this.bugs.has('no-receipts')) super.sendReceipt(conv, user, kind, seq, skipConn);
  }

  protected override readsRecordBeforeRefusing(): boolean {
    // stale-refusals: a fleet node refuses by what it has heard on the bus, as if it were the only writer.
    return !this.bugs.has('stale-refusals') && super.readsRecordBeforeRefusing();
  }

  protected override connectionGone(user: UserId, now: number): void {
    // stuck-presence: a user stays online after the last connection goes.
    if (!this.bugs.has('stuck-presence')) super.connectionGone(user, now);
  }
}

/** The node to run: the shipped ChatNode, or the buggy variant when any core bug is named. */
export function createChatNode(options: ChatNodeOptions, bugs: Iterable<string> = []): ChatNode {
  const named = [...bugs].filter((bug): bug is BugName => coreBugs.has(bug as BugName));
  return named.length === 0 ? new ChatNode(options) : new BuggyChatNode(options, named);
}
