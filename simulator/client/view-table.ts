// A client's conversation views by conversation id. Most clients hold a handful (a million of them in a
// scale run), where a Map costs hundreds of bytes of hash table each: a short list, searched in order,
// indexed by a Map only once it grows past `listMax`. Iterates in the order views were added, as a Map.

import type { ConversationView } from './conversation-view.ts';

const listMax = 8;
const noViews: ConversationView[] = [];

export class ViewTable {
  /** Made with its first view: an array grown from empty by push reserves room for 17 (152 bytes). */
  private list: ConversationView[] = noViews;
  private index: Map<string, ConversationView> | null = null;

  get size(): number {
    return this.list.length;
  }

  get(conv: string): ConversationView | undefined {
    if (this.index !== null) return this.index.get(conv);
    for (const view of this.list) if (view.conv === conv) return view;
    return undefined;
  }

  /** Adds a view for a conversation that has none yet. */
  add(view: ConversationView): void {
    if (this.list === noViews) this.list = [view];
    else this.list.push(view);
    if (this.index !== null) this.index.set(view.conv, view);
    else if (this.list.length > listMax) this.index = new Map(this.list.map((v) => [v.conv, v]));
  }

  values(): readonly ConversationView[] {
    return this.list;
  }

  keys(): string[] {
    return this.list.map((view) => view.conv);
  }
}
