import { describe, expect, it } from 'vitest';
import type { ShardStatus } from './generator-messages.ts';
import { settle } from './settle.ts';

function status(open: number, outbox: number): ShardStatus[] {
  return [{ devices: 2, open, outbox, behind: 0 } as ShardStatus];
}
const quietStatus = status(2, 0);
const busyStatus = status(1, 3);

/** A settle over a scripted sequence of status answers, one per step of a clock that ends at `endMs`. */
async function run(answers: ShardStatus[][], endMs: number) {
  let clock = 0;
  let reads = 0;
  const steps: string[] = [];
  const result = await settle<string>({
    now: () => clock,
    endMs,
    pause: async () => {
      clock++;
    },
    status: async (read) => {
      steps.push(`status(${read ?? 'no read'})`);
      return answers.shift() ?? busyStatus;
    },
    read: async () => {
      const read = `read${++reads}`;
      steps.push(read);
      return read;
    },
    discard: (read) => steps.push(`discard ${read}`),
    stopGenerators: async () => {
      steps.push('stop generators');
    },
  });
  return { result, steps };
}

describe('settle', () => {
  it('reads at the first quiet answer and settles at the next quiet one', async () => {
    const { result, steps } = await run([busyStatus, quietStatus, quietStatus], 10);
    expect(steps).toEqual(['status(no read)', 'status(no read)', 'read1', 'status(read1)']);
    expect(result).toMatchObject({ settledAt: 3, read: 'read1', stopped: false });
  });

  it('a run that does not settle is read only after its generators stopped, the read of a quiet moment discarded', async () => {
    // Quiet once, then a client comes back and flushes its outbox: what it gets acked after the first
    // read is not in it. Before the fix that stale read was judged (a false durable-ack red).
    const { result, steps } = await run([quietStatus, busyStatus, busyStatus, busyStatus], 4);
    expect(steps).toEqual([
      'status(no read)',
      'read1',
      'status(read1)',
      'status(read1)',
      'status(read1)',
      'discard read1',
      'stop generators',
      'read2',
    ]);
    expect(result).toMatchObject({ settledAt: null, read: 'read2', stopped: true });
  });

  it('a run never quiet is read once, after its generators stopped', async () => {
    const { result, steps } = await run([], 2);
    expect(steps).toEqual(['status(no read)', 'status(no read)', 'stop generators', 'read1']);
    expect(result).toMatchObject({ settledAt: null, read: 'read1', stopped: true });
  });
});
