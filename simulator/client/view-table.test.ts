// A client's views are found by their conversation and iterate in insertion order, as a Map would:
// with one view (no table), a few (a list) and past the list size (an index).

import { describe, expect, it } from 'vitest';
import { ConversationView } from './conversation-view.ts';
import { type Views, viewCount, viewIn, viewsIn, withView } from './view-table.ts';

describe('Views', () => {
  it('finds views by conversation and keeps insertion order from none to past the list size', () => {
    let views: Views = null;
    expect(viewCount(views)).toBe(0);
    expect(viewIn(views, 'c0')).toBeUndefined();
    expect(viewsIn(views)).toEqual([]);
    const convs = Array.from({ length: 20 }, (_, i) => `c${(i * 7) % 20}`);
    for (const [n, conv] of convs.entries()) {
      views = withView(views, new ConversationView(conv));
      expect(viewCount(views)).toBe(n + 1);
      for (const seen of convs.slice(0, n + 1)) expect(viewIn(views, seen)?.conv).toBe(seen);
      expect(viewIn(views, 'none')).toBeUndefined();
      expect(viewsIn(views).map((view) => view.conv)).toEqual(convs.slice(0, n + 1));
    }
  });

  it('holds a single view as itself', () => {
    const view = new ConversationView('c1');
    expect(withView(null, view)).toBe(view);
  });
});
