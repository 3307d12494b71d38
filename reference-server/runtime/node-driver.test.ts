import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Effect } from '../core/effects.ts';
import type { Input } from '../core/inputs.ts';
import { type CoreNode, type EffectSinks, NodeDriver } from './node-driver.ts';
import { WakeTimer } from './wake-timer.ts';

/**
 * A node that answers each input with `script(input)`, reusing one array as ChatNode does: a driver
 * that called it again mid-iteration would see its remaining effects overwritten.
 */
function scriptedNode(script: (input: Input | 'tick') => Effect[]) {
  const out: Effect[] = [];
  const seen: (Input | 'tick')[] = [];
  const answer = (input: Input | 'tick') => {
    seen.push(input);
    out.length = 0;
    out.push(...script(input));
    return out;
  };
  const node: CoreNode = { handle: (input) => answer(input), tick: () => answer('tick') };
  return { node, seen };
}

function recordingSinks(onEffect: (effect: Effect) => void): EffectSinks {
  return {
    send: onEffect,
    close: onEffect,
    verify: onEffect,
    store: onEffect,
    publish: onEffect,
    reply: onEffect,
    wake: onEffect,
    drained: onEffect,
  };
}

describe('NodeDriver', () => {
  it('queues inputs fed while effects are carried out, never re-entering the node', () => {
    const scripted = scriptedNode((input) => {
      if (input !== 'tick' && input.type === 'open')
        return [
          { type: 'send', to: [input.conn], frame: { t: 'drain', reconnectInMs: 1 } },
          { type: 'close', conn: input.conn, code: 1012, reason: 'x' },
        ];
      return [{ type: 'wake', at: 5 }];
    });
    const effects: Effect[] = [];
    const driver = new NodeDriver(scripted.node, () => 0);
    driver.attach(
      recordingSinks((effect) => {
        effects.push(structuredClone(effect));
        if (effect.type === 'send') driver.feed({ type: 'backpressure', conn: 1, bufferedBytes: 9 });
      }),
    );
    driver.feed({ type: 'open', conn: 1 });
    expect(effects.map((e) => e.type)).toEqual(['send', 'close', 'wake']);
    expect(scripted.seen).toEqual([
      { type: 'open', conn: 1 },
      { type: 'backpressure', conn: 1, bufferedBytes: 9 },
    ]);
  });

  it('runs ticks through the same queue and ignores inputs after stop', () => {
    const scripted = scriptedNode(() => []);
    const driver = new NodeDriver(scripted.node, () => 0);
    driver.attach(recordingSinks(() => {}));
    driver.tick();
    driver.feed({ type: 'gone', conn: 3 });
    driver.stop();
    driver.feed({ type: 'gone', conn: 4 });
    driver.tick();
    expect(scripted.seen).toEqual(['tick', { type: 'gone', conn: 3 }]);
  });

  it('passes the clock to the node for every input', () => {
    const times: number[] = [];
    const node: CoreNode = {
      handle: (_input, now) => {
        times.push(now);
        return [];
      },
      tick: (now) => {
        times.push(now);
        return [];
      },
    };
    let clock = 10;
    const driver = new NodeDriver(node, () => clock);
    driver.attach(recordingSinks(() => {}));
    driver.feed({ type: 'open', conn: 1 });
    clock = 20;
    driver.tick();
    expect(times).toEqual([10, 20]);
  });
});

// setImmediate too: a due wake runs after the input already waiting (wake-timer.ts).
const fakedTimers: ('setTimeout' | 'clearTimeout' | 'setImmediate' | 'clearImmediate' | 'Date')[] = [
  'setTimeout',
  'clearTimeout',
  'setImmediate',
  'clearImmediate',
  'Date',
];

describe('WakeTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps one timer at the earliest requested time', () => {
    vi.useFakeTimers({ now: 1000, toFake: fakedTimers });
    const fired: number[] = [];
    const timer = new WakeTimer(() => fired.push(Date.now()));
    timer.request(1500);
    timer.request(1200);
    timer.request(1800);
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(1200);
    expect(fired[0]).toBeLessThan(1210);
    timer.request(2100);
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveLength(2);
    expect(fired[1]).toBeGreaterThanOrEqual(2100);
    expect(fired[1]).toBeLessThan(2110);
    timer.stop();
  });

  it('does not fire before the requested time even if the clock lags the timer', () => {
    vi.useFakeTimers({ now: 0, toFake: fakedTimers });
    let clock = 0;
    const fired: number[] = [];
    const timer = new WakeTimer(
      () => fired.push(clock),
      () => clock,
    );
    timer.request(100);
    clock = 99;
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    clock = 100;
    vi.advanceTimersByTime(5);
    expect(fired).toEqual([100]);
  });

  it('runs a due wake after the input already waiting on a socket, however long the loop was blocked', async () => {
    // A hello that reached the kernel before its deadline must be read before the deadline is judged:
    // timers run before the loop polls its sockets, so the wake defers to after the poll.
    const order: string[] = [];
    const server = createNetServer((socket) => socket.on('data', () => order.push('input')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const timer = new WakeTimer(() => order.push('wake'));
    timer.request(Date.now() + 5);
    client.write('hello');
    const until = Date.now() + 60; // the loop is blocked past the deadline with the input waiting
    while (Date.now() < until) {}
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(order).toEqual(['input', 'wake']);
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('stop cancels the pending wake', () => {
    vi.useFakeTimers({ now: 0, toFake: fakedTimers });
    const fired: number[] = [];
    const timer = new WakeTimer(() => fired.push(1));
    timer.request(10);
    timer.stop();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
