import { beforeAll, describe, expect, it } from 'vitest';
import { encodeJsonFrame } from '../../reference-server/store/record-codec.ts';
import { frameAfterFirstBoundary, frameLengthBoundary, wholeRecordsIn } from './disk-torn-write.ts';
import {
  type FaultRun,
  failedVerdicts,
  faultRunTimeoutMs,
  recoveryReadingSegments,
  runFault,
} from './fault-harness.ts';

const busy = { clients: { count: 60 }, workload: { ratePer1kClients: 2000 } };

describe('disk-torn-write', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault({ type: 'disk-torn-write', atMs: 1000, durationMs: 1000 }, busy);
  }, faultRunTimeoutMs);

  it('crashes the log mid-write with a torn tail that recovery cuts off', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.tornWrites).toBeGreaterThanOrEqual(1);
    expect(storage.disk.tornOutOfOrder).toBe(0);
    expect(storage.truncatedBytes).toBeGreaterThan(0);
    // The node was down: nothing acked while it recovered.
    expect(run.of('ack', run.start + 20, run.heal)).toEqual([]);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('keeps every acknowledged record', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});

describe('wholeRecordsIn', () => {
  it('counts the whole frames a write starts with, up to enough (a large record alone is one)', () => {
    const frame = encodeJsonFrame({ t: 'append', body: 'x'.repeat(300) });
    const three = Buffer.concat([frame, frame, frame]);
    expect(wholeRecordsIn(three, 5)).toBe(3);
    expect(wholeRecordsIn(three, 2)).toBe(2);
    expect(wholeRecordsIn(Buffer.concat([frame, frame.subarray(0, 100)]), 5)).toBe(1);
    expect(wholeRecordsIn(encodeJsonFrame({ body: 'y'.repeat(6000) }), 3)).toBe(1);
  });
});

describe('frameAfterFirstBoundary', () => {
  // 305 bytes a frame: three of them at 0 span one boundary (512), and the third starts past it.
  const frame = encodeJsonFrame({ t: 'append', body: 'x'.repeat(280) });
  const three = Buffer.concat([frame, frame, frame]);

  it("finds a frame that a 'hole' tear leaves whole after its hole", () => {
    expect(frame.length).toBeLessThan(512);
    expect(frameAfterFirstBoundary(three, 0)).toBe(true);
    // Starting 100 bytes before a boundary, the second frame starts past it.
    expect(frameAfterFirstBoundary(three, 412)).toBe(true);
  });

  it('finds none when every frame starts before the first boundary (the tear would leave only a torn tail)', () => {
    // Two frames at 0 end past 512, the second starting before it: nothing whole lies after the hole.
    expect(frameAfterFirstBoundary(Buffer.concat([frame, frame]), 0)).toBe(false);
    expect(frameAfterFirstBoundary(frame, 300)).toBe(false);
  });
});

describe("disk-torn-write with sectors 'hole' and writeRecordsMin", () => {
  let run: FaultRun;
  beforeAll(async () => {
    // Default 2 ms fsyncs: most writes hold one record, some a large body alone. The crash waits for a
    // batch of four records.
    run = await runFault(
      { type: 'disk-torn-write', atMs: 1000, durationMs: 1000, sectors: 'hole', writeRecordsMin: 4 },
      {
        clients: { count: 100 },
        workload: { ratePer1kClients: 3000, pressers: 0 },
        checks: { skip: ['rate-limit'] },
      },
    );
  }, faultRunTimeoutMs);

  it('tears a batch of at least writeRecordsMin records, and recovery cuts it although whole records lie after the hole', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.tornOutOfOrder).toBe(1);
    expect(storage.tailsCutBeforeIntact).toBe(1);
    expect(storage.refusals).toEqual([]);
  });

  it('starts again and keeps every acknowledged record', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});

describe("disk-torn-write with sectors 'any'", () => {
  let run: FaultRun;
  beforeAll(async () => {
    // Slow fsyncs make each write hold many records, so intact ones lie after the hole.
    run = await runFault(
      { type: 'disk-torn-write', atMs: 1000, durationMs: 1000, sectors: 'any' },
      {
        clients: { count: 100 },
        // The crash would cut the presser's press off before any answer: rate-limit is judged elsewhere.
        workload: { ratePer1kClients: 3000, pressers: 0 },
        checks: { skip: ['rate-limit'] },
        network: { fsyncMs: 50 },
      },
    );
  }, faultRunTimeoutMs);

  it('keeps a later sector of the torn write and loses an earlier one; recovery cuts from the hole on', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.tornOutOfOrder).toBe(1);
    expect(storage.refusals).toEqual([]);
    expect(storage.truncatedBytes).toBeGreaterThan(0);
    // The crash comes with the first write after the fault starts: an fsync already under way may
    // still ack what it covered (the sim's 4 KiB group-commit batches write often), nothing after.
    const crashedAt = run.of('session-lost', run.start, run.heal)[0]!.at;
    expect(crashedAt - run.start).toBeLessThan(200);
    expect(run.of('ack', crashedAt, run.heal)).toEqual([]);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('starts again and keeps every acknowledged record', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});

describe('frameLengthBoundary', () => {
  const frame = encodeJsonFrame({ t: 'append', body: 'x'.repeat(200) });
  it('finds the sector boundary that falls 1-3 bytes into a frame, and no other', () => {
    // Frames of frame.length bytes from position p: frame k starts at p + k * frame.length.
    const write = Buffer.concat([frame, frame, frame, frame]);
    for (let into = 1; into <= 3; into++) {
      const position = 512 - 2 * frame.length - into;
      expect(frameLengthBoundary(write, position), `into ${into}`).toBe(512);
    }
    for (const into of [0, 4, 7])
      expect(frameLengthBoundary(write, 512 - 2 * frame.length - into)).toBeNull();
    expect(frameLengthBoundary(frame, 0)).toBeNull();
  });
});

/** A recovery that cannot read a tail shorter than a frame's length field: it throws there (mutant 3047). */
const shortTailThrows = recoveryReadingSegments((data, offset, frame) => {
  const left = data.length - offset;
  if (frame === null && left > 0 && left < 4)
    throw new RangeError(`a tail of ${left} bytes read as a frame's length`);
});

describe("disk-torn-write with tornAt 'frame-length'", () => {
  const fault = { type: 'disk-torn-write', atMs: 500, durationMs: 5000, tornAt: 'frame-length' };
  const load = {
    clients: { count: 100 },
    workload: { ratePer1kClients: 3000, pressers: 0 },
    checks: { skip: ['rate-limit'] },
  };
  let run: FaultRun;
  let deviant: FaultRun;
  beforeAll(async () => {
    run = await runFault(fault, load);
    deviant = await runFault(fault, load, 1, shortTailThrows);
  }, faultRunTimeoutMs);

  it('crashes with a tail holding part of a frame length, which recovery cuts; nothing is lost', () => {
    const storage = run.summary.storage!;
    expect(storage.tornFrameLengths).toBe(1);
    expect(storage.truncatedBytes).toBeGreaterThan(0);
    expect(storage.truncatedBytes).toBeLessThan(4);
    expect(storage.refusals).toEqual([]);
    expect(failedVerdicts(run)).toEqual([]);
  });

  it('fails a store whose recovery cannot read so short a tail (it refuses the log and stays down)', () => {
    expect(deviant.summary.storage!.tornFrameLengths).toBe(1);
    expect(deviant.summary.storage!.refusals.join()).toMatch(/frame's length/);
    expect(deviant.summary.exitCode).not.toBe(0);
    expect(failedVerdicts(deviant).join('\n')).toMatch(/durable-ack|liveness|no-loss/);
  });
});
