// A removed member may still read what was sequenced while it was a member (protocol.md guarantee 6:
// readable by exactly the users who were members when it was sequenced, including those removed since).
// A core that refuses every read of a user no longer a member breaks that, and the gate must say so,
// from the harness's own membership oracle (never the server's spans). The broken rule is a ChatNode
// subclass the world builds in place of the shipped node, not a branch in production code.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Conversation, ReadWindow } from '../reference-server/core/conversation.ts';
import type { UserId } from '../reference-server/protocol/frames.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

/** Refuses a sync or resume of a user who is no longer a member, whatever it asks for. */
class PastMembersRefusedNode extends ChatNode {
  protected override readWindowOf(conv: Conversation, user: UserId, after: number): ReadWindow | null {
    return conv.isMember(user) ? super.readWindowOf(conv, user, after) : null;
  }
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;
/** A quarter of churn's clients: the check is under test, not the scale. */
const clients = 150;

describe('a removed member refused its own past', () => {
  it(
    "fails authorization with the refused sync and the harness's own record of the membership",
    async () => {
      const summary = await runScenario(loadScenario('churn'), {
        seed: 1,
        clients,
        chatNode: (options) => new PastMembersRefusedNode(options),
      });
      const authorization = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(authorization.verdict).toBe('fail');
      expect(authorization.details).toMatch(/read of its own past refused/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
