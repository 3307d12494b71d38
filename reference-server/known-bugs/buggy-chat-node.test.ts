import { describe, expect, it } from 'vitest';
import { ChatNode } from '../core/chat-node.ts';
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
