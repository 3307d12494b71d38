// End to end without sockets: VirtualClients against the real sans-I/O ChatNode, over a tiny
// in-test loopback (fixed latency, one virtual clock) and a synchronous store built on StoreState.
// Shows the client and the core agree on the protocol: sends, acks, pushes, resume after a cut,
// a member added mid-run, receipts, and the whole run repeating exactly.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../../reference-server/core/chat-node.ts';
import type { Effect, StoreOp } from '../../reference-server/core/effects.ts';
import type { Input, StoreOutcome } from '../../reference-server/core/inputs.ts';
import type { Message } from '../../reference-server/protocol/frames.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';
import type { HistoryEvent } from '../history.ts';
import { sequenceRng } from './client-driver.ts';
import type { ClientEffect } from './client-effect.ts';
import { VirtualClient } from './virtual-client.ts';

const latencyMs = 2;

class SyncStore {
  readonly state = new StoreState();
  private readonly messages = new Map<string, Message[]>();
  /** Reads still to fail with `unavailable` (a store outage as the node sees it). */
  readsToFail = 0;

  run(op: StoreOp): StoreOutcome {
    if (op.kind === 'read' && this.readsToFail > 0) {
      this.readsToFail--;
      return { status: 'unavailable' };
    }
    switch (op.kind) {
      case 'append': {
        const result = this.state.append(op.request);
        if (result.status === 'ok' && !result.duplicate) {
          const { conv, from, cmid, body } = op.request;
          this.list(conv).push({ conv, seq: result.seq, from, cmid, body, ts: result.ts });
        }
        return result;
      }
      case 'read': {
        const lastSeq = this.state.lastSeq(op.request.conv);
        if (lastSeq === undefined) return { status: 'not_found' };
        const { after, limit } = op.request;
        return { status: 'ok', messages: this.list(op.request.conv).slice(after, after + limit), lastSeq };
      }
      case 'cursor':
        return this.state.advanceCursor(op.request);
      case 'create':
        return this.state.create(op.request);
      case 'members':
        return this.state.changeMembers(op.request).result;
      case 'records':
        return { status: 'ok', records: this.state.records() };
    }
  }

  list(conv: string): Message[] {
    let list = this.messages.get(conv);
    if (list === undefined) {
      list = [];
      this.messages.set(conv, list);
    }
    return list;
  }
}

type Scheduled = { at: number; order: number; run: () => void };

/** One node, its store, and clients, on one virtual clock. */
class Loopback {
  readonly store = new SyncStore();
  readonly node = new ChatNode({ nodeId: 'n1' });
  readonly events: HistoryEvent[] = [];
  readonly clients: VirtualClient[] = [];
  /** `device cmid` -> how many send frames carried it. */
  readonly sendFrames = new Map<string, number>();
  now = 0;
  private queue: Scheduled[] = [];
  private order = 0;
  private nextConn = 1;
  /** client index -> its current connection id (0: none); conn -> client index. */
  private readonly connOf: number[] = [];
  private readonly clientOf = new Map<number, number>();

  constructor(convs: { id: string; kind: 'direct' | 'group'; members: string[] }[]) {
    for (const conv of convs) this.store.state.create(conv);
    this.node.load(this.store.state.records());
  }

  addClient(user: string, device: string, seed: number): number {
    const index = this.clients.length;
    const client = new VirtualClient({
      user,
      device,
      rng: sequenceRng([seed, 0.9, 0.1, 0.6]),
      token: (now) => `valid:${user}:${now}`,
      record: (event) => this.events.push(event),
      config: clientConfig,
    });
    this.clients.push(client);
    this.connOf.push(0);
    this.at(this.now, () => this.clientEffects(index, client.start(this.now)));
    return index;
  }

  at(at: number, run: () => void): void {
    this.queue.push({ at, order: this.order++, run });
  }

  runUntil(until: number): void {
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const item = this.queue[i]!;
        const best = this.queue[next];
        if (
          item.at <= until &&
          (best === undefined || item.at < best.at || (item.at === best.at && item.order < best.order))
        )
          next = i;
      }
      if (next < 0) break;
      const [item] = this.queue.splice(next, 1);
      this.now = item!.at;
      item!.run();
    }
    this.now = until;
  }

  client(index: number, act: (client: VirtualClient, now: number) => readonly ClientEffect[]): void {
    this.at(this.now, () => this.clientEffects(index, act(this.clients[index]!, this.now)));
  }

  /** Both sides learn at once that the connection is gone (a reset). */
  cut(index: number): void {
    const conn = this.connOf[index]!;
    if (conn === 0) return;
    this.detach(conn);
    this.input({ type: 'gone', conn });
    this.clientEffects(index, this.clients[index]!.disconnected(null, this.now));
  }

  input(input: Input): void {
    this.at(this.now, () => this.nodeEffects(this.node.handle(input, this.now)));
  }

  private detach(conn: number): void {
    const index = this.clientOf.get(conn);
    if (index === undefined) return;
    this.clientOf.delete(conn);
    this.connOf[index] = 0;
  }

  private clientEffects(index: number, effects: readonly ClientEffect[]): void {
    const client = this.clients[index]!;
    for (const effect of effects) {
      const conn = this.connOf[index]!;
      if (effect.type === 'connect') {
        const id = this.nextConn++;
        this.connOf[index] = id;
        this.clientOf.set(id, index);
        this.at(this.now + latencyMs, () => this.input({ type: 'open', conn: id }));
        this.at(this.now + 2 * latencyMs, () => {
          if (this.connOf[index] === id) this.clientEffects(index, client.connected(this.now));
        });
      } else if (effect.type === 'frame') {
        if (effect.frame.t === 'send') {
          const key = `${client.device} ${effect.frame.cmid}`;
          this.sendFrames.set(key, (this.sendFrames.get(key) ?? 0) + 1);
        }
        if (conn !== 0)
          this.at(this.now + latencyMs, () => this.input({ type: 'frame', conn, value: effect.frame }));
      } else if (effect.type === 'text') {
        if (conn !== 0)
          this.at(this.now + latencyMs, () => this.input({ type: 'text', conn, text: effect.text }));
      } else if (effect.type === 'binary') {
        if (conn !== 0) this.at(this.now + latencyMs, () => this.input({ type: 'binary', conn }));
      } else if (effect.type === 'close') {
        this.detach(conn);
        if (conn !== 0) this.at(this.now + latencyMs, () => this.input({ type: 'gone', conn }));
      } else {
        this.at(effect.at, () => {
          // Heartbeats flow on a live connection: the client hears the server.
          if (this.connOf[index] !== 0) client.heard(this.now);
          this.clientEffects(index, client.timer(effect.kind, effect.key, this.now));
        });
      }
    }
  }

  private nodeEffects(effects: readonly Effect[]): void {
    for (const effect of effects) {
      if (effect.type === 'send') {
        for (const conn of effect.to) {
          this.at(this.now + latencyMs, () => {
            const index = this.clientOf.get(conn);
            if (index !== undefined)
              this.clientEffects(index, this.clients[index]!.received(effect.frame, this.now));
          });
        }
      } else if (effect.type === 'close') {
        this.at(this.now + latencyMs, () => {
          const index = this.clientOf.get(effect.conn);
          this.detach(effect.conn);
          if (index !== undefined)
            this.clientEffects(index, this.clients[index]!.disconnected(effect.code, this.now));
          this.input({ type: 'gone', conn: effect.conn });
        });
      } else if (effect.type === 'verify') {
        const [kind, user] = effect.token.split(':');
        const claims = kind === 'valid' && user ? { sub: user, admin: false } : null;
        this.input({ type: 'verified', conn: effect.conn, claims });
      } else if (effect.type === 'store') {
        const outcome = this.store.run(effect.op);
        this.at(this.now + 1, () => this.input({ type: 'stored', id: effect.id, outcome }));
      } else if (effect.type === 'wake') {
        this.at(effect.at, () => this.nodeEffects(this.node.tick(this.now)));
      }
    }
  }
}

const clientConfig = { gapTimeoutMs: 50, cursorIntervalMs: 20 };

function displays(events: HistoryEvent[], device: string, conv: string) {
  return events.filter(
    (e): e is Extract<HistoryEvent, { k: 'display' }> =>
      e.k === 'display' && e.device === device && e.message.conv === conv,
  );
}

/** The admin API's member change on 'room', as the node's HTTP input. */
function changeMembers(world: Loopback, body: { add?: string[]; remove?: string[] }): void {
  world.input({
    type: 'http',
    req: 1,
    request: {
      method: 'POST',
      path: '/v1/admin/conversations/room/members',
      query: {},
      principal: { kind: 'user', sub: 'admin', admin: true },
      body,
    },
  });
}

function scenario(): Loopback {
  const world = new Loopback([{ id: 'room', kind: 'group', members: ['alice', 'bob', 'carol'] }]);
  const alice = world.addClient('alice', 'a1', 0.3);
  const alice2 = world.addClient('alice', 'a2', 0.7);
  const bob = world.addClient('bob', 'b1', 0.5);
  const carol = world.addClient('carol', 'c1', 0.2);
  world.runUntil(100);
  for (let i = 0; i < 5; i++) {
    for (const sender of [alice, bob, carol])
      world.client(sender, (c, now) => c.sendMessage('room', `m${i}`, now));
    if (i === 1) {
      // After the node made bob's message durable, before its ack reaches him.
      world.runUntil(world.now + 4);
      world.cut(bob);
    }
    world.runUntil(world.now + 7);
  }
  world.client(alice2, (c, now) => c.sendMessage('room', 'from the second device', now));
  world.runUntil(5_000);
  return world;
}

describe('VirtualClient against the real ChatNode', () => {
  it('every device displays every message once, in seq order, matching the store', () => {
    const world = scenario();
    const stored = world.store.list('room');
    expect(stored).toHaveLength(16);
    for (const device of ['a1', 'a2', 'b1', 'c1']) {
      const shown = displays(world.events, device, 'room');
      expect(shown.map((e) => e.message)).toEqual(stored);
    }
    const acks = world.events.filter((e) => e.k === 'ack');
    expect(acks).toHaveLength(16);
    expect(world.events.filter((e) => e.k === 'failed')).toEqual([]);
    // The sender's device shows its own messages as 'own'; alice's other device gets them pushed.
    expect(
      displays(world.events, 'a1', 'room').filter((e) => e.message.from === 'alice' && e.via !== 'own'),
    ).toHaveLength(1);
    expect(
      displays(world.events, 'a2', 'room').filter((e) => e.message.from === 'alice' && e.via === 'push'),
    ).toHaveLength(5);
    // bob's cut: his unacked sends were resent under the same cmid, and what he missed came by resume.
    expect(world.sendFrames.get('b1 b1-2')).toBe(2);
    const bobsSecond = world.events.filter((e) => e.k === 'ack' && e.device === 'b1' && e.cmid === 'b1-2');
    expect(bobsSecond).toHaveLength(1);
    expect(stored.filter((m) => m.from === 'bob' && m.cmid === 'b1-2')).toHaveLength(1);
    expect(displays(world.events, 'b1', 'room').some((e) => e.via === 'resume')).toBe(true);
    expect(world.clients.every((c) => c.outboxSize === 0 && c.connectionState === 'open')).toBe(true);
  });

  it('cursors reach the other members: every acked message ends delivered', () => {
    const world = scenario();
    const a1 = world.clients[0]!;
    for (let n = 1; n <= 5; n++) expect(a1.status(`a1-${n}`)).toBe('delivered');
    // 16 messages, plus the same ack again for bob's resend after the cut.
    expect(world.node.stats.acks).toBe(17);
  });

  it('a member added mid-run reads from its join on', () => {
    const world = new Loopback([{ id: 'room', kind: 'group', members: ['alice', 'bob'] }]);
    const alice = world.addClient('alice', 'a1', 0.4);
    world.runUntil(50);
    for (let i = 0; i < 3; i++) world.client(alice, (c, now) => c.sendMessage('room', `before ${i}`, now));
    world.runUntil(200);
    changeMembers(world, { add: ['dave'] });
    world.runUntil(250);
    const dave = world.addClient('dave', 'd1', 0.6);
    world.runUntil(300);
    world.client(alice, (c, now) => c.sendMessage('room', 'after', now));
    world.runUntil(2_000);
    expect(displays(world.events, 'd1', 'room').map((e) => [e.message.seq, e.message.body])).toEqual([
      [4, 'after'],
    ]);
    expect(world.clients[dave]!.displayedUpTo('room')).toBe(4);
  });

  it('v1.1: a device away for a whole membership reads it from the welcome (member: false), never sends to it', () => {
    const world = new Loopback([{ id: 'room', kind: 'group', members: ['alice', 'bob'] }]);
    const alice = world.addClient('alice', 'a1', 0.4);
    world.runUntil(50);
    for (let i = 0; i < 2; i++) world.client(alice, (c, now) => c.sendMessage('room', `while bob ${i}`, now));
    world.runUntil(200);
    changeMembers(world, { remove: ['bob'] });
    world.runUntil(250);
    world.client(alice, (c, now) => c.sendMessage('room', 'after bob', now));
    const bob = world.addClient('bob', 'b1', 0.6);
    world.runUntil(400);
    world.client(bob, (c, now) => c.sendMessage('room', 'not a member any more', now));
    world.runUntil(2_000);
    expect(displays(world.events, 'b1', 'room').map((e) => e.message.seq)).toEqual([1, 2]);
    expect(world.clients[bob]!.isPastMember('room')).toBe(true);
    // Issued after the welcome told it so: failed at once, never sent (only a send queued before that
    // welcome is held).
    expect(world.clients[bob]!.outboxSize).toBe(0);
    world.runUntil(31_000);
    expect([...world.sendFrames.keys()].filter((key) => key.startsWith('b1 '))).toEqual([]);
    expect(world.events.filter((e) => e.k === 'failed')).toMatchObject([
      { device: 'b1', code: 'not_member', at: 400 },
    ]);
  });

  it('v1.1: a sync the store failed is asked again at once (err.conv), not after syncTimeoutMs', () => {
    const world = new Loopback([{ id: 'room', kind: 'group', members: ['alice', 'bob'] }]);
    const alice = world.addClient('alice', 'a1', 0.4);
    world.runUntil(50);
    for (let i = 0; i < 3; i++) world.client(alice, (c, now) => c.sendMessage('room', `m${i}`, now));
    world.runUntil(200);
    world.store.readsToFail = 1;
    world.addClient('bob', 'b1', 0.6);
    // Well inside the client's syncTimeoutMs (10 s): only the err can have prompted the second sync.
    world.runUntil(400);
    expect(world.store.readsToFail).toBe(0);
    const syncs = world.events.filter((e) => e.k === 'sync-sent' && e.device === 'b1');
    expect(syncs).toHaveLength(2);
    expect(displays(world.events, 'b1', 'room').map((e) => e.message.seq)).toEqual([1, 2, 3]);
  });

  it('repeats exactly: the same inputs give the same history', () => {
    expect(JSON.stringify(scenario().events)).toBe(JSON.stringify(scenario().events));
  });
});
