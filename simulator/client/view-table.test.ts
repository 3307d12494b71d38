// The view table finds each view by its conversation and iterates in insertion order, as a Map would,
// before and after it grows an index.

import { describe, expect, it } from 'vitest';
import { ConversationView } from './conversation-view.ts';
import { ViewTable } from './view-table.ts';

describe('ViewTable', () => {
  it('finds views by conversation and keeps insertion order past its list size', () => {
    const table = new ViewTable();
    const convs = Array.from({ length: 20 }, (_, i) => `c${(i * 7) % 20}`);
    for (const [n, conv] of convs.entries()) {
      table.add(new ConversationView(conv));
      expect(table.size).toBe(n + 1);
      for (const seen of convs.slice(0, n + 1)) expect(table.get(seen)?.conv).toBe(seen);
      expect(table.get('none')).toBeUndefined();
    }
    expect(table.keys()).toEqual(convs);
    expect(table.values().map((view) => view.conv)).toEqual(convs);
  });
});
