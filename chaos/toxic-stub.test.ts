// A stub on its own: the toxicity roll, interrupts that hand back control without losing what the
// toxic held, and closes that send EOF on.

import { describe, expect, it } from 'vitest';
import { EOF, INTERRUPTED, type Inlet, type Item, TIMED_OUT, ToxicStub } from './toxic-stub.ts';

function sink(): Inlet & { items: Item[] } {
  const items: Item[] = [];
  return { items, upstream: null, put: (item) => void items.push(item), hasRoom: () => true };
}
const chunk = (text: string) => ({ data: Buffer.from(text), atMs: 0 });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('ToxicStub', () => {
  it('runs the toxic when the roll is under the toxicity, a noop otherwise', async () => {
    for (const [roll, toxicity, expected] of [
      [0.3, 0.5, 'toxic'],
      [0.7, 0.5, 'noop'],
      [0, 0, 'noop'],
      [0.99, 1, 'toxic'],
    ] as const) {
      const out = sink();
      const stub = new ToxicStub(4, out);
      let ran = 'noop';
      stub.run(
        async (s) => {
          ran = 'toxic';
          await s.read();
        },
        toxicity,
        () => roll,
      );
      await stub.interrupt();
      expect(ran).toBe(expected);
    }
  });

  it('a noop passes chunks and EOF on, then is closed', async () => {
    const out = sink();
    const stub = new ToxicStub(4, out);
    stub.run(
      async () => {},
      0,
      () => 1,
    );
    stub.put(chunk('a'));
    stub.put(EOF);
    await tick();
    expect(out.items).toEqual([chunk('a'), EOF]);
    expect(stub.closed).toBe(true);
    expect(await stub.interrupt()).toBe(false);
  });

  it('an interrupt wakes a read and a sleep; the queue stays for the next run', async () => {
    const stub = new ToxicStub(4, sink());
    const seen: unknown[] = [];
    stub.run(
      async (s) => {
        seen.push(await s.read());
        seen.push(await s.sleep(60_000));
        seen.push(await s.read());
      },
      1,
      () => 0,
    );
    stub.put(chunk('x'));
    await tick();
    stub.put(chunk('y'));
    expect(await stub.interrupt()).toBe(true);
    expect(seen).toEqual([chunk('x'), false, INTERRUPTED]);
    expect(stub.queue).toEqual([chunk('y')]);
  });

  it('a read with a timeout gives TIMED_OUT when nothing comes', async () => {
    const stub = new ToxicStub(4, sink());
    expect(await stub.read(10)).toBe(TIMED_OUT);
  });

  it('a write waits for room, but never once interrupted', async () => {
    let room = false;
    const out = { ...sink(), hasRoom: () => room };
    const stub = new ToxicStub(4, out);
    let written = false;
    stub.run(
      async (s) => {
        await s.write(chunk('w'));
        written = true;
      },
      1,
      () => 0,
    );
    await tick();
    expect(written).toBe(false);
    await stub.interrupt();
    expect(written).toBe(true);
    expect(out.items).toEqual([chunk('w')]);
    room = true;
  });

  it('close sends EOF once and drops what arrives after', () => {
    const out = sink();
    const stub = new ToxicStub(4, out);
    stub.close();
    stub.close();
    stub.put(chunk('late'));
    expect(out.items).toEqual([EOF]);
    expect(stub.queue).toEqual([]);
  });
});
