import { beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  AppendRequest,
  AppendResult,
  CreateRequest,
  CreateResult,
  CursorRequest,
  CursorResult,
  MembersRequest,
  MembersResult,
} from '../../reference-server/store/message-store.ts';
import type { LogRecord } from '../../reference-server/store/record-codec.ts';
import {
  decodeJson,
  decodeRecord,
  encodeFrame,
  readFrame,
} from '../../reference-server/store/record-codec.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';
import { type ForeignRecordForm, foreignRecordForms } from '../../scenarios/scenario.ts';
import { foreignFrame, foreignRecord, modelOf } from './disk-misdirected-write.ts';
import {
  type FaultRun,
  failedVerdicts,
  faultRunTimeoutMs,
  recoveryReadingSegments,
  runFault,
} from './fault-harness.ts';

/**
 * The deviant store of the 'foreign' tests: while `lenient.on`, its decoder takes any record of a known
 * type that the fault planted (foreignFrame writes `t` last, the writer first) as a decoder missing a
 * check would (record-codec.ts's mutants 3146, 3203, 3133 of the samples), marked `planted`, and
 * PlantedAccepted replays such a record as a recovery missing a replay check would (log-recovery.ts's
 * 2724, 2727, 2728).
 */
const lenient = vi.hoisted(() => ({ on: false }));
vi.mock('../../reference-server/store/record-codec.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../reference-server/store/record-codec.ts')>();
  return {
    ...real,
    decodeRecord(payload: Buffer): LogRecord | null {
      const record = real.decodeRecord(payload);
      if (!lenient.on || payload.subarray(0, 5).toString() === '{"t":') return record;
      const value = (record ?? real.decodeJson(payload)) as { t?: unknown } | undefined;
      const known = ['append', 'create', 'members', 'cursor'].includes(String(value?.t));
      return known ? ({ ...value, planted: true } as unknown as LogRecord) : null;
    },
  };
});

/** Replays a planted record as if it applied as it was logged; everything else as StoreState. */
class PlantedAccepted extends StoreState {
  override create(request: CreateRequest): CreateResult {
    const result = super.create(request);
    return planted(request) ? { ...result, status: 'created' } : result;
  }

  override append(request: AppendRequest): AppendResult {
    const result = super.append(request);
    return planted(request) && result.status === 'ok'
      ? { ...result, duplicate: false, seq: (request as { seq?: number }).seq ?? result.seq }
      : result;
  }

  override changeMembers(request: MembersRequest): { result: MembersResult; changed: boolean } {
    const changed = super.changeMembers(request);
    return planted(request) ? { ...changed, changed: true } : changed;
  }

  override advanceCursor(request: CursorRequest): CursorResult {
    const result = super.advanceCursor(request);
    return planted(request) && result.status === 'ok'
      ? { status: 'ok', seq: request.seq, moved: true }
      : result;
  }
}

function planted(request: object): boolean {
  return 'planted' in request;
}

describe('disk-misdirected-write', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'disk-misdirected-write', atMs: 1000 },
      { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
    );
  }, faultRunTimeoutMs);

  it('lands a whole CRC-valid record over an older one, and the store notices', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.misdirectedWrites).toBe(1);
    // A read of the overwritten record fails, or the recovery that replays it refuses the log.
    expect(storage.refusals.length + storage.corruptReads).toBeGreaterThan(0);
  });

  it('never serves the record that landed as the one the index expects there', () => {
    const shown = run.summary.verdicts.filter((v) =>
      ['agreement', 'per-conversation-order', 'no-duplicates'].includes(v.property),
    );
    expect(
      shown.map((v) => `${v.property}: ${v.verdict}${v.verdict === 'pass' ? '' : ` ${v.details}`}`),
    ).toEqual(['per-conversation-order: pass', 'agreement: pass', 'no-duplicates: pass']);
  });

  it(
    "never serves another conversation's record of the same seq either (landing 'same-seq')",
    async () => {
      // The default lands a record of the same conversation, which only the seq tells apart; this one
      // only the conversation does. A store that checked one half would serve the other.
      const sameSeq = await runFault(
        { type: 'disk-misdirected-write', atMs: 1000, landing: 'same-seq' },
        { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
      );
      expect(sameSeq.summary.storage!.disk.misdirectedWrites).toBe(1);
      const shown = sameSeq.summary.verdicts.filter((v) =>
        ['agreement', 'per-conversation-order', 'no-duplicates'].includes(v.property),
      );
      expect(shown.map((v) => `${v.property}: ${v.verdict}`)).toEqual([
        'per-conversation-order: pass',
        'agreement: pass',
        'no-duplicates: pass',
      ]);
      expect(
        sameSeq.summary.storage!.corruptReads + sameSeq.summary.storage!.refusals.length,
      ).toBeGreaterThan(0);
    },
    faultRunTimeoutMs,
  );

  it('loses the overwritten record (one copy of the log): durable-ack says so', () => {
    const durableAck = run.summary.verdicts.find((v) => v.property === 'durable-ack');
    expect(durableAck?.verdict).toBe('fail');
  });

  it(
    "with the node serving on, the heal's scrub reads the damaged record back, the store refuses it, and after the restore nothing is lost",
    async () => {
      const serving = await runFault(
        { type: 'disk-misdirected-write', atMs: 1000, durationMs: 500 },
        { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
      );
      const storage = serving.summary.storage!;
      expect(storage.disk.misdirectedWrites).toBe(1);
      expect(storage.refusals).toEqual([]);
      // The scrub reads every seq alone, the overwritten one included (a landed frame longer than the
      // one it overwrote also breaks the next record's CRC: refused too).
      expect(storage.corruptReads).toBeGreaterThan(0);
      // The damage lasts until the backup is back, after the scrub's reads: the history keeps the fault
      // open that long (held open at the heal, healed again at the restore), so a read of the damaged
      // seq refused meanwhile is no spurious `unavailable`.
      const windows = serving.events.filter(
        (e) => e.k === 'fault' && e.type === 'disk-misdirected-write',
      ) as { phase: string; at: number }[];
      expect(windows.map((e) => e.phase)).toEqual(['start', 'start', 'heal', 'heal']);
      expect(windows[1]!.at).toBe(serving.heal);
      expect(windows[3]!.at).toBeGreaterThan(serving.heal);
      expect(failedVerdicts(serving)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'restored from a backup at the heal: the recovery refuses the log until then, and nothing is lost',
    async () => {
      const restored = await runFault(
        [
          // The damaged checkpoint makes the recovery replay every segment, the overwritten record included.
          { type: 'disk-bitflip', atMs: 1000, file: 'checkpoint' },
          { type: 'disk-misdirected-write', atMs: 1000, durationMs: 1500 },
          { type: 'node-crash', atMs: 1001, durationMs: 500, node: 0 },
        ],
        { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
      );
      const storage = restored.summary.storage!;
      expect(storage.disk.misdirectedWrites).toBe(1);
      expect(storage.refusals).toEqual([expect.stringMatching(/\.seg is corrupt at offset \d+/)]);
      expect(failedVerdicts(restored)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});

describe('foreignRecord', () => {
  const message = { t: 'append', conv: 'g1', seq: 3, from: 'u1', cmid: 'c3', body: 'hi', ts: 30 } as const;
  const before = { ...message, seq: 2, cmid: 'c2' };
  const model = modelOf([
    { t: 'create', id: 'g1', kind: 'group', members: ['u1', 'u2'] },
    { ...before, seq: 1, cmid: 'c1' },
    before,
    { t: 'cursor', conv: 'g1', user: 'u1', kind: 'read', seq: 2 },
  ]);

  it('makes each form a CRC-valid frame of exactly the length asked, or null when it does not fit', () => {
    for (const form of foreignRecordForms) {
      const frame = foreignFrame(foreignRecord(form, message, model, 'g1~')!, 200)!;
      expect(frame.length, form).toBe(200);
      expect(readFrame(frame, 0, frame.length).ok, form).toBe(true);
      expect(foreignFrame(foreignRecord(form, message, model, 'g1~')!, 40), form).toBeNull();
    }
  });

  it('builds each form from what the records before the target say, a record no correct writer writes', () => {
    const decoded = (form: ForeignRecordForm) => {
      const frame = foreignFrame(foreignRecord(form, message, model, 'g1~')!, 200)!;
      return decodeJson((readFrame(frame, 0, 200) as { payload: Buffer }).payload);
    };
    expect(decoded('members-add-number')).toEqual({ t: 'members', conv: 'g1', add: [7], remove: ['u1'] });
    expect(decoded('members-unchanged')).toEqual({ t: 'members', conv: 'g1', add: ['u1'], remove: [] });
    expect(decoded('create-twice')).toEqual({ t: 'create', id: 'g1', kind: 'group', members: ['u1'] });
    expect(decoded('cursor-repeat')).toEqual({ t: 'cursor', conv: 'g1', user: 'u1', kind: 'read', seq: 2 });
    // u1 has read up to lastSeq 2, and its delivered cursor is below it.
    expect(decoded('cursor-past-end')).toEqual({
      t: 'cursor',
      conv: 'g1',
      user: 'u1',
      kind: 'delivered',
      seq: 3,
    });
    expect(decoded('append-ts')).toEqual({ ...message, ts: Number.POSITIVE_INFINITY });
    expect(decoded('append-repeat')).toEqual({ ...message, seq: 2, cmid: 'c2' });
    // None of them decodes and replays: the real decoder refuses those of a wrong shape.
    for (const form of [
      'members-add-number',
      'create-kind',
      'cursor-kind',
      'append-body',
      'append-ts',
    ] as const)
      expect(
        decodeRecord(foreignFrame(foreignRecord(form, message, model, 'g1~')!, 200)!.subarray(8)),
        form,
      ).toBeNull();
  });
});

/**
 * A recovery that reads a number where a user id belongs as that id (as a decoder that took any list:
 * mutants 3126 and 3164 of the 3c0f288 seed-3 sample): each such membership change is given to the
 * store rewritten with string ids, padded with spaces to the same length, so it replays.
 */
const numbersAsIds = recoveryReadingSegments((data, offset, frame) => {
  if (frame === null) return;
  const value = decodeJson(frame.payload) as { t?: string; add?: unknown[] } | undefined;
  if (value?.t !== 'members' || !value.add?.some((user) => typeof user !== 'string')) return;
  const json = JSON.stringify({ ...value, add: value.add.map(String) });
  const spaces = frame.payload.length - Buffer.byteLength(json);
  if (spaces >= 0) encodeFrame(Buffer.from(`${json.slice(0, -1)}${' '.repeat(spaces)}}`)).copy(data, offset);
});

describe("disk-misdirected-write with landing 'foreign'", () => {
  const fault = { type: 'disk-misdirected-write', atMs: 1000, durationMs: 400, landing: 'foreign' };
  const load = { clients: { count: 200 } };
  let run: FaultRun;
  let deviant: FaultRun;
  beforeAll(async () => {
    run = await runFault(fault, load);
    deviant = await runFault(fault, load, 1, numbersAsIds);
  }, faultRunTimeoutMs);

  it("lands a frame no record of the format over a group's last record; recovery refuses it, and after the restore nothing is lost", () => {
    const storage = run.summary.storage!;
    expect(storage.disk.misdirectedWrites).toBe(1);
    expect(storage.refusals.join()).toMatch(/a record that does not decode/);
    expect(failedVerdicts(run)).toEqual([]);
  });

  it('fails a store whose recovery replays it (the record it hid is lost)', () => {
    expect(deviant.summary.storage!.disk.misdirectedWrites).toBe(1);
    expect(deviant.summary.storage!.refusals.join()).not.toMatch(/does not decode/);
    expect(deviant.summary.exitCode).not.toBe(0);
    expect(failedVerdicts(deviant).join('\n')).toMatch(/durable-ack|cursor-monotonicity|no-loss/);
  });
});

describe("disk-misdirected-write with landing 'foreign', every form", () => {
  const fault = (forms: readonly string[]) => ({
    type: 'disk-misdirected-write',
    atMs: 1000,
    durationMs: 300,
    landing: 'foreign',
    forms,
  });
  const load = { clients: { count: 200 } };
  /** What the real recovery says of each form: a decoder's refusal or a replay's. */
  const refusal = (form: string): RegExp =>
    /^(members-add|members-remove|create-kind|create-member|create-id|cursor-kind|append-body|append-cmid|append-ts)/.test(
      form,
    )
      ? /a record that does not decode/
      : /\(replay diverged\)/;

  it(
    'lands each in turn, each with a crash and restart; recovery refuses each until the backup is back, and nothing is lost',
    async () => {
      const run = await runFault(fault(foreignRecordForms), load);
      const storage = run.summary.storage!;
      expect(storage.disk.misdirectedWrites).toBe(foreignRecordForms.length);
      expect(storage.refusals).toHaveLength(foreignRecordForms.length);
      for (const [i, form] of foreignRecordForms.entries())
        expect(storage.refusals[i], form).toMatch(refusal(form));
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it.each(foreignRecordForms)(
    'fails a store whose recovery takes %s',
    async (form) => {
      lenient.on = true;
      const deviant = await runFault(fault([form]), load, 1, {
        storeState: () => new PlantedAccepted(),
      }).finally(() => {
        lenient.on = false;
      });
      expect(deviant.summary.storage!.disk.misdirectedWrites).toBe(1);
      expect(deviant.summary.storage!.refusals).toEqual([]);
      expect(failedVerdicts(deviant).join('\n')).toMatch(
        /^(durable-ack|no-loss|agreement|cursor-monotonicity|authorization|per-conversation-order|no-duplicates|idempotency)/m,
      );
    },
    faultRunTimeoutMs,
  );
});
