// A proxy's toxics (Toxiproxy's ToxicCollection): one chain per direction, each headed by a hidden
// noop, and the links of every open connection. Changes are serialized and applied to every open
// link before they return, so once the API has answered, the change is in force on every connection.

import type { Connection } from './connection.ts';
import type { Direction, Toxic } from './toxic.ts';
import { noop } from './toxics/noop.ts';

const hiddenNoop = (direction: Direction): Toxic => ({
  name: '',
  kind: noop,
  stream: direction,
  direction,
  toxicity: 1,
  attributes: {},
});

export class ToxicCollection {
  private readonly chains: Record<Direction, Toxic[]> = {
    upstream: [hiddenNoop('upstream')],
    downstream: [hiddenNoop('downstream')],
  };
  readonly connections = new Set<Connection>();
  private queue: Promise<unknown> = Promise.resolve();

  /** Upstream toxics first, then downstream, each in the order they were added. */
  list(): Toxic[] {
    return [...this.chains.upstream.slice(1), ...this.chains.downstream.slice(1)];
  }

  find(name: string): Toxic | undefined {
    return this.list().find((toxic) => toxic.name === name);
  }

  /** The live chains: a new connection's links follow every later change through them. */
  liveChains(): Record<Direction, readonly Toxic[]> {
    return this.chains;
  }

  /** False if a toxic of that name exists on either stream. */
  add(toxic: Toxic): Promise<boolean> {
    return this.serialized(async () => {
      if (this.find(toxic.name)) return false;
      this.chains[toxic.direction].push(toxic);
      await Promise.all(this.linksOf(toxic.direction).map((link) => link.addToxic(toxic)));
      return true;
    });
  }

  /** Replaces a toxic by its updated copy (same name and direction). */
  update(updated: Toxic): Promise<void> {
    return this.serialized(async () => {
      const chain = this.chains[updated.direction];
      const index = chain.findIndex((toxic) => toxic.name === updated.name);
      if (index < 1) return;
      chain[index] = updated;
      await Promise.all(this.linksOf(updated.direction).map((link) => link.updateToxic(index, updated)));
    });
  }

  remove(name: string): Promise<boolean> {
    return this.serialized(async () => {
      const toxic = this.find(name);
      if (!toxic) return false;
      const chain = this.chains[toxic.direction];
      const index = chain.indexOf(toxic);
      chain.splice(index, 1);
      await Promise.all(this.linksOf(toxic.direction).map((link) => link.removeToxic(index, toxic)));
      return true;
    });
  }

  async reset(): Promise<void> {
    for (const toxic of this.list()) await this.remove(toxic.name);
  }

  /** Runs after every change queued before it; a failed change does not block the next. */
  private serialized<T>(change: () => Promise<T>): Promise<T> {
    const result = this.queue.then(change);
    this.queue = result.catch(() => {});
    return result;
  }

  private linksOf(direction: Direction) {
    return [...this.connections].map((connection) => connection.links[direction]);
  }
}
