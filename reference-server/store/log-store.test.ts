// The log store against the shared contract, then what only a log has: torn tails, corruption,
// segment rotation and checkpoints. A "crash image" is a copy of the data dir taken while the store
// is open: what a machine that kept its page cache would find after the process died.

import { rmSync } from 'node:fs';
import { cp, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointFileName } from './checkpoint.ts';
import { LogStore, type LogStoreOptions } from './log-store.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';
import { withoutMembersVersion } from './message-store.properties.ts';
import { encodeJsonFrame } from './record-codec.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chatsim-log-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * Small segments and frequent checkpoints, so the contract crosses rotations. A clean close writes a
 * checkpoint that would hide a record the log failed to carry; `fullReplay` deletes it before each
 * reopen so that every decision must come back from the segments alone.
 */
function logFixture(fullReplay: boolean) {
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatsim-log-contract-'));
    const options: LogStoreOptions = { dir, segmentBytesMax: 2048, checkpointEveryRecords: 7 };
    return {
      store: new LogStore(options),
      reopen: () => {
        if (fullReplay) rmSync(join(dir, checkpointFileName), { force: true });
        return new LogStore(options);
      },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  };
}

describeMessageStoreContract('LogStore', logFixture(false), { durable: true, propertyRuns: 25 });
describeMessageStoreContract('LogStore, replaying every segment on reopen', logFixture(true), {
  durable: true,
  propertyRuns: 25,
});

async function filled(options: Omit<LogStoreOptions, 'dir'> & { dir?: string }, messages: number) {
  const dir = options.dir ?? (await tempDir());
  const store = new LogStore({ ...options, dir });
  await store.open();
  await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
  for (let i = 1; i <= messages; i++) {
    await store.append({
      conv: 'g',
      from: i % 2 ? 'a' : 'b',
      cmid: `m${i}`,
      body: `body ${i} `.repeat(3),
      ts: i,
    });
  }
  return { dir, store };
}

async function crashImage(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

async function bodies(store: LogStore, conv = 'g'): Promise<string[]> {
  const out: string[] = [];
  for (let after = 0; ; ) {
    const result = await store.read({ conv, after, limit: 100 });
    if (result.status !== 'ok') throw new Error(`read ${conv}: ${result.status}`);
    out.push(...result.messages.map((m) => m.body));
    if (result.messages.length === 0) return out;
    after = result.messages[result.messages.length - 1]!.seq;
  }
}

const expectedBodies = (n: number) => Array.from({ length: n }, (_, i) => `body ${i + 1} `.repeat(3));

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
}

/**
 * A crash image whose last segment ends with an unsynced write of 8 records (seqs 11-18) of which a
 * later sector reached the disk and an earlier one did not: that sector reads as zeros.
 */
async function tornOutOfOrder() {
  const { dir, store } = await filled({}, 10);
  const image = await crashImage(dir);
  await store.close();
  const [last] = (await segments(image)).slice(-1);
  const path = join(image, last!);
  const synced = await readFile(path);
  const bodiesOfWrite = Array.from({ length: 8 }, (_, i) => `${i + 11} `.repeat(70));
  const frames = bodiesOfWrite.map((body, i) =>
    encodeJsonFrame({ t: 'append', conv: 'g', seq: 11 + i, from: 'a', cmid: `w${i}`, body, ts: 11 + i }),
  );
  const write = Buffer.concat(frames);
  const start = synced.length;
  const sector = 512;
  const holeStart = (Math.floor(start / sector) + 1) * sector;
  write.fill(0, holeStart - start, holeStart + sector - start);
  await writeFile(path, Buffer.concat([synced, write]));
  let offset = start;
  const intactBefore: string[] = [];
  for (const [i, frame] of frames.entries()) {
    if (offset + frame.length > holeStart) break;
    intactBefore.push(bodiesOfWrite[i]!);
    offset += frame.length;
  }
  // An intact record lies after the hole, as the recovery must see it.
  expect(start + write.length - (holeStart + sector)).toBeGreaterThan(frames[7]!.length * 2);
  return { image, path, hole: { badFrame: offset }, intactBefore, writeEnd: start + write.length };
}

describe('LogStore recovery', () => {
  it('cuts half a record off the tail of the last segment and stays usable', async () => {
    const { dir, store } = await filled({}, 10);
    await store.close();
    const [last] = (await segments(dir)).slice(-1);
    const path = join(dir, last!);
    const sizeBefore = (await stat(path)).size;
    const frame = encodeJsonFrame({
      t: 'append',
      conv: 'g',
      seq: 11,
      from: 'a',
      cmid: 'm11',
      body: 'x',
      ts: 11,
    });
    await writeFile(path, frame.subarray(0, Math.floor(frame.length / 2)), { flag: 'a' });

    const reopened = new LogStore({ dir });
    await reopened.open();
    expect(reopened.truncatedBytes).toBe(Math.floor(frame.length / 2));
    expect((await stat(path)).size).toBe(sizeBefore);
    expect(await bodies(reopened)).toEqual(expectedBodies(10));
    expect(await reopened.append({ conv: 'g', from: 'a', cmid: 'm11', body: 'after', ts: 11 })).toMatchObject(
      {
        seq: 11,
        duplicate: false,
      },
    );
    await reopened.close();
    const again = new LogStore({ dir });
    await again.open();
    expect(again.truncatedBytes).toBe(0);
    expect(await bodies(again)).toEqual([...expectedBodies(10), 'after']);
    await again.close();
  });

  it('drops a last record whose CRC does not check out, keeping every earlier one', async () => {
    const { dir, store } = await filled({}, 10);
    const image = await crashImage(dir);
    await store.close();
    const [last] = (await segments(image)).slice(-1);
    const path = join(image, last!);
    const data = await readFile(path);
    const lastFrame = encodeJsonFrame({
      t: 'append',
      conv: 'g',
      seq: 10,
      from: 'b',
      cmid: 'm10',
      body: expectedBodies(10)[9],
      ts: 10,
    });
    expect(data.subarray(data.length - lastFrame.length)).toEqual(lastFrame);
    const handle = await open(path, 'r+');
    await handle.write(
      Buffer.from([data[data.length - lastFrame.length + 4]! ^ 0xff]),
      0,
      1,
      data.length - lastFrame.length + 4,
    );
    await handle.close();

    const reopened = new LogStore({ dir: image });
    await reopened.open();
    expect(reopened.truncatedBytes).toBe(lastFrame.length);
    expect((await stat(path)).size).toBe(data.length - lastFrame.length);
    expect(await bodies(reopened)).toEqual(expectedBodies(9));
    await reopened.close();
  });

  it('refuses corruption in a segment that is not the last, naming file and offset', async () => {
    const { dir, store } = await filled({ segmentBytesMax: 1024 }, 40);
    const image = await crashImage(dir);
    await store.close();
    const names = await segments(image);
    expect(names.length).toBeGreaterThan(2);
    const path = join(image, names[0]!);
    const data = await readFile(path);
    const length = data.readUInt32LE(0);
    const secondRecord = 8 + length;
    data[secondRecord + 12] = data[secondRecord + 12]! ^ 0x01;
    await writeFile(path, data);
    const reopened = new LogStore({ dir: image });
    const failure = reopened.open();
    await expect(failure).rejects.toMatchObject({ code: 'CHATSIM_ERR_LOG_CORRUPT', offset: secondRecord });
    await expect(failure).rejects.toThrow(/00000001\.seg is corrupt at offset \d+: CRC mismatch/);
  });

  it('refuses a damaged record in the last segment with intact ones after it: damage, not a torn tail', async () => {
    const { dir, store } = await filled({}, 10);
    const image = await crashImage(dir);
    await store.close();
    const names = await segments(image);
    const path = join(image, names[names.length - 1]!);
    const data = await readFile(path);
    const secondRecord = 8 + data.readUInt32LE(0);
    data[secondRecord + 12] = data[secondRecord + 12]! ^ 0x01;
    await writeFile(path, data);
    const failure = new LogStore({ dir: image }).open();
    await expect(failure).rejects.toMatchObject({ code: 'CHATSIM_ERR_LOG_CORRUPT', offset: secondRecord });
    await expect(failure).rejects.toThrow(/CRC mismatch, with an intact record at offset \d+ after it/);
    // Nothing was cut: the intact records are still there for an operator to restore from.
    expect((await stat(path)).size).toBe(data.length);
  });

  it('cuts an unsynced last write torn out of order (a hole of zeros before intact records), and starts', async () => {
    const { image, path, hole, intactBefore, writeEnd } = await tornOutOfOrder();
    const reopened = new LogStore({ dir: image });
    await reopened.open();
    // Cut from the first record the hole damaged: nothing of that write was acked (no fsync covered it).
    expect(reopened.truncatedBytes).toBe(writeEnd - hole.badFrame);
    expect((await stat(path)).size).toBe(hole.badFrame);
    expect(await bodies(reopened)).toEqual([...expectedBodies(10), ...intactBefore]);
    expect(
      withoutMembersVersion(
        await reopened.append({ conv: 'g', from: 'a', cmid: 'next', body: 'after', ts: 99 }),
      ),
    ).toMatchObject({ seq: 11 + intactBefore.length, duplicate: false });
    await reopened.close();
  });

  it('refuses the same hole when more than one write of bytes lies after it: synced damage, not a torn write', async () => {
    const { image, hole } = await tornOutOfOrder();
    const failure = new LogStore({
      dir: image,
      limits: { groupCommitBytesMax: 256, recordBytesMax: 512 },
    }).open();
    await expect(failure).rejects.toMatchObject({ code: 'CHATSIM_ERR_LOG_CORRUPT', offset: hole.badFrame });
  });

  it('sets a damaged checkpoint aside and replays every segment; refuses a missing segment', async () => {
    const { dir, store } = await filled({ segmentBytesMax: 1024 }, 40);
    await store.close();
    const checkpoint = join(dir, checkpointFileName);
    const data = await readFile(checkpoint);
    data[data.length - 3] = data[data.length - 3]! ^ 0x01;
    await writeFile(checkpoint, data);
    const rebuilt = new LogStore({ dir });
    await rebuilt.open();
    expect(rebuilt.checkpointRejected).toMatch(/checkpoint\.dat is corrupt .*CRC mismatch/);
    expect(rebuilt.replayedRecords).toBe(41);
    expect(await bodies(rebuilt)).toEqual(expectedBodies(40));
    await rebuilt.close();
    await rm(join(dir, '00000002.seg'));
    await expect(new LogStore({ dir }).open()).rejects.toMatchObject({
      code: 'CHATSIM_ERR_LOG_CORRUPT',
      message: expect.stringMatching(/00000002\.seg is corrupt at offset 0: the file is missing/),
    });
  });

  it('rotates segments at the size bound and reads bodies back from every segment', async () => {
    const options = { segmentBytesMax: 4096, limits: { tailCacheMessagesPerConv: 4, readFilesMax: 2 } };
    const { dir, store } = await filled(options, 300);
    const names = await segments(dir);
    expect(names.length).toBeGreaterThan(5);
    expect(names[0]).toBe('00000001.seg');
    for (const name of names) expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(4096);
    expect(await bodies(store)).toEqual(expectedBodies(300));
    await store.close();
    const reopened = new LogStore({ dir, ...options });
    await reopened.open();
    expect(reopened.replayedRecords).toBe(0);
    expect(await bodies(reopened)).toEqual(expectedBodies(300));
    await reopened.close();
  });

  it('replays only the records after the last checkpoint', async () => {
    const dir = await tempDir();
    const store = new LogStore({ dir, checkpointEveryRecords: 50 });
    await store.open();
    await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    await store.advanceCursor({ conv: 'g', user: 'b', kind: 'read', seq: 0 });
    for (let i = 1; i <= 130; i++) {
      await store.append({
        conv: 'g',
        from: i % 2 ? 'a' : 'b',
        cmid: `m${i}`,
        body: `body ${i} `.repeat(3),
        ts: i,
      });
      if (i === 60) await store.advanceCursor({ conv: 'g', user: 'b', kind: 'read', seq: 55 });
      // Waiting keeps checkpoints at exactly every 50th record.
      await store.whenCheckpointed();
    }
    // 1 create + 131 (130 appends, 1 cursor move) = 132 records; checkpoints after 50 and 100.
    const image = await crashImage(dir);
    const crashed = new LogStore({ dir: image });
    const records = await crashed.open();
    expect(crashed.replayedRecords).toBe(32);
    expect(records[0]?.cursors.b).toEqual({ delivered: 0, read: 55 });
    expect(await bodies(crashed)).toEqual(expectedBodies(130));
    expect(
      withoutMembersVersion(await crashed.append({ conv: 'g', from: 'a', cmid: 'm3', body: 'dup', ts: 999 })),
    ).toEqual({
      status: 'ok',
      seq: 3,
      ts: 3,
      duplicate: true,
    });
    await crashed.close();
    await store.close();
    const clean = new LogStore({ dir });
    await clean.open();
    expect(clean.replayedRecords).toBe(0);
    expect(await bodies(clean)).toEqual(expectedBodies(130));
    await clean.close();
  });
});
