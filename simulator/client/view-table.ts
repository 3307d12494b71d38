// A client's conversation views by conversation id. Most clients hold one or a handful (a million of
// them in a scale run), where a Map costs hundreds of bytes of hash table each: a client with one view
// holds just that view (`Views`), a few sit in a short list searched in order, and a Map indexes the
// list only once it grows past `listMax`. Iterates in the order views were added, as a Map.

import type { ConversationView } from './conversation-view.ts';

const listMax = 8;

export class ViewTable {
  private readonly list: ConversationView[];
  private index: Map<string, ConversationView> | null = null;
  /** The view found last: most frames are about the conversation the last one was about. */
  private last: ConversationView | null = null;

  /** Made from the views a client held (two or more by then). */
  constructor(views: ConversationView[]) {
    this.list = views;
  }

  get size(): number {
    return this.list.length;
  }

  get(conv: string): ConversationView | undefined {
    const last = this.last;
    if (last !== null && last.conv === conv) return last;
    let found: ConversationView | undefined;
    if (this.index !== null) found = this.index.get(conv);
    else
      for (const view of this.list)
        if (view.conv === conv) {
          found = view;
          break;
        }
    if (found !== undefined) this.last = found;
    return found;
  }

  /** Adds a view for a conversation that has none yet. */
  add(view: ConversationView): void {
    this.list.push(view);
    if (this.index !== null) this.index.set(view.conv, view);
    else if (this.list.length > listMax) this.index = new Map(this.list.map((v) => [v.conv, v]));
  }

  values(): readonly ConversationView[] {
    return this.list;
  }
}

/** A client's views: none, exactly one (no table: about 90 bytes a client less), or a table. */
export type Views = ConversationView | ViewTable | null;

export function viewIn(views: Views, conv: string): ConversationView | undefined {
  if (views === null) return undefined;
  if (views instanceof ViewTable) return views.get(conv);
  return views.conv === conv ? views : undefined;
}

export function viewCount(views: Views): number {
  if (views === null) return 0;
  return views instanceof ViewTable ? views.size : 1;
}

/** In the order they were added (a one-element array made for a single view: call it per session, not per frame). */
export function viewsIn(views: Views): readonly ConversationView[] {
  if (views === null) return [];
  return views instanceof ViewTable ? views.values() : [views];
}

/** `views` with `view` added (a conversation that has none yet): assign it back. */
export function withView(views: Views, view: ConversationView): Views {
  if (views === null) return view;
  if (views instanceof ViewTable) {
    views.add(view);
    return views;
  }
  return new ViewTable([views, view]);
}
