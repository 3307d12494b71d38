import { describe, expect, it } from 'vitest';
import { ChatNode } from '../core/chat-node.ts';
import type { Effect, StoreOp } from '../core/effects.ts';
import type { StoreOutcome } from '../core/inputs.ts';
import type { ServerFrame } from '../protocol/frames.ts';
import { membersVersionOf } from '../store/message-store.ts';
import { StoreState } from '../store/store-state.ts';
import { BuggyChatNode, createChatNode } from './buggy-chat-node.ts';
import { bugNames, coreBugs } from './bugs.ts';

describe('createChatNode', () => {
  it('builds the shipped ChatNode unless a core bug is named', () => {
    const options = { nodeId: 'n1' };
    expect(createChatNode(options)).not.toBeInstanceOf(BuggyChatNode);
    expect(createChatNode(options, ['sync-skips', 'ack-before-durable'])).not.toBeInstanceOf(BuggyChatNode);
    for (const bug of coreBugs) {
      const node = createChatNode(options, [bug, 'sync-skips']);
      expect(node).toBeInstanceOf(BuggyChatNode);
      expect(node).toBeInstanceOf(ChatNode);
      expect([...(node as BuggyChatNode).bugs]).toEqual([bug]);
    }
  });

  it('knows every core bug by a name in the catalogue', () => {
    for (const bug of coreBugs) expect(bugNames).toContain(bug);
  });
});

describe('stale-refusals', () => {
  /**
   * A fleet node, its store a StoreState answered at once; carol is added to g in the store through
   * another node, and this node has not heard of it on the bus. Returns the frames carol's connection got.
   */
  function carolActsAfterAnAddElsewhere(bugs: string[]): ServerFrame[] {
    const state = new StoreState();
    state.create({ id: 'g', kind: 'group', members: ['alice', 'bob'] });
    const node = createChatNode({ nodeId: 'n2', publishes: true }, bugs);
    node.load(state.records());
    const frames: ServerFrame[] = [];
    const run = (effects: Effect[]): void => {
      for (const effect of effects) {
        if (effect.type === 'send') frames.push(effect.frame);
        if (effect.type === 'store')
          run(node.handle({ type: 'stored', id: effect.id, outcome: answer(effect.op) }, 0));
      }
    };
    const answer = (op: StoreOp): StoreOutcome => {
      if (op.kind === 'records') return { status: 'ok', records: state.records(op.convs) };
      if (op.kind === 'append') return state.append(op.request);
      if (op.kind === 'cursor') return state.advanceCursor(op.request);
      if (op.kind === 'read') {
        const membersVersion = membersVersionOf(state.record(op.request.conv)!);
        return { status: 'ok', messages: [], lastSeq: state.lastSeq(op.request.conv)!, membersVersion };
      }
      throw new Error(`unexpected store op ${op.kind}`);
    };
    run(node.handle({ type: 'open', conn: 1 }, 0));
    run(node.handle({ type: 'frame', conn: 1, value: { t: 'hello', token: 't' } }, 0));
    run(node.handle({ type: 'verified', conn: 1, claims: { sub: 'carol', admin: false } }, 0));
    state.changeMembers({ conv: 'g', add: ['carol'], remove: [] });
    for (const value of [
      { t: 'sync', conv: 'g', after: 0 },
      { t: 'send', conv: 'g', cmid: 'c1', body: 'hi' },
      { t: 'read', conv: 'g', seq: 1 },
    ] as const)
      run(node.handle({ type: 'frame', conn: 1, value }, 0));
    return frames;
  }

  it("refuses a member added through another node by the fleet node's own view, where the shipped node reads the record", () => {
    const shipped = carolActsAfterAnAddElsewhere([]);
    expect(shipped.filter((f) => f.t === 'err')).toEqual([]);
    expect(shipped.map((f) => f.t)).toEqual(expect.arrayContaining(['welcome', 'batch', 'ack']));
    const buggy = carolActsAfterAnAddElsewhere(['stale-refusals']);
    expect(buggy.filter((f) => f.t === 'err')).toEqual([
      expect.objectContaining({ code: 'forbidden', ref: 'sync', conv: 'g' }),
      expect.objectContaining({ code: 'forbidden', ref: 'c1', conv: 'g' }),
      expect.objectContaining({ code: 'forbidden', ref: 'read', conv: 'g' }),
    ]);
  });
});
