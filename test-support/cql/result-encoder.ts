// RESULT and ERROR bodies of CQL native protocol v4 (spec sections 4.2.1 and 4.2.5): Void, Rows with
// per-column specs, Set_keyspace, Prepared (bind specs, partition-key indexes, result metadata),
// Schema_change, and the error codes a store must handle with their extra fields.

import { type CqlType, type CqlValue, encodeValue, FrameWriter } from './cql-wire.ts';
import type { PrimedAnswer } from './primes.ts';
import type { ColumnSpec, Outcome, ResultRows } from './table-engine.ts';

export type ServerError = { code: number; message: string; id?: Buffer };

const consistencyCodes: Record<string, number> = {
  ANY: 0,
  ONE: 1,
  TWO: 2,
  THREE: 3,
  QUORUM: 4,
  ALL: 5,
  LOCAL_QUORUM: 6,
  EACH_QUORUM: 7,
  SERIAL: 8,
  LOCAL_SERIAL: 9,
  LOCAL_ONE: 10,
};

export function encodeError(error: ServerError): Buffer {
  const w = new FrameWriter().int(error.code).string(error.message);
  if (error.code === 0x2500 && error.id) w.shortBytes(error.id);
  return w.build();
}

function metadata(w: FrameWriter, columns: ColumnSpec[]): void {
  w.int(0).int(columns.length);
  for (const c of columns) w.string(c.keyspace).string(c.table).string(c.name).option(c.type);
}

export function encodeRows(result: ResultRows): Buffer {
  const w = new FrameWriter().int(0x0002);
  metadata(w, result.columns);
  w.int(result.rows.length);
  for (const row of result.rows)
    result.columns.forEach((c, i) => {
      w.bytes(encodeValue(c.type, row[i] ?? null));
    });
  return w.build();
}

export function encodeOutcome(outcome: Outcome): Buffer {
  switch (outcome.kind) {
    case 'void':
      return new FrameWriter().int(0x0001).build();
    case 'rows':
      return encodeRows(outcome.result);
    case 'set-keyspace':
      return new FrameWriter().int(0x0003).string(outcome.keyspace).build();
    case 'schema-change': {
      const w = new FrameWriter()
        .int(0x0005)
        .string(outcome.change)
        .string(outcome.target)
        .string(outcome.keyspace);
      if (outcome.target === 'TABLE') w.string(outcome.table ?? '');
      return w.build();
    }
  }
}

export function encodePrepared(
  id: Buffer,
  params: ColumnSpec[],
  pkIndexes: number[],
  result: ColumnSpec[],
): Buffer {
  const w = new FrameWriter().int(0x0004).shortBytes(id);
  w.int(0).int(params.length).int(pkIndexes.length);
  for (const i of pkIndexes) w.short(i);
  for (const c of params) w.string(c.keyspace).string(c.table).string(c.name).option(c.type);
  metadata(w, result);
  return w.build();
}

/** A primed answer as a RESULT body, or an ERROR body (the caller picks the opcode by `isError`). */
export function encodePrimed(answer: PrimedAnswer, requestConsistency: string): Buffer {
  if ('void' in answer) return encodeOutcome({ kind: 'void' });
  if ('rows' in answer) {
    const names = Object.keys(answer.columns);
    const columns = names.map((name) => ({
      keyspace: 'primed',
      table: 'primed',
      name,
      type: answer.columns[name] as CqlType,
    }));
    const rows = answer.rows.map((row) => names.map((n) => (row[n] ?? null) as CqlValue));
    return encodeRows({ columns, rows });
  }
  if ('closeConnection' in answer) throw new Error('a closed connection has no body');
  const named = 'consistency' in answer ? answer.consistency : undefined;
  const cl = consistencyCodes[named ?? requestConsistency] ?? 4;
  switch (answer.error) {
    case 'unavailable':
      return new FrameWriter()
        .int(0x1000)
        .string('Cannot achieve consistency level')
        .short(cl)
        .int(answer.required ?? 2)
        .int(answer.alive ?? 1)
        .build();
    case 'write_timeout':
      return new FrameWriter()
        .int(0x1100)
        .string('Operation timed out')
        .short(cl)
        .int(answer.received ?? 1)
        .int(answer.blockFor ?? 2)
        .string(answer.writeType ?? 'SIMPLE')
        .build();
    case 'read_timeout':
      return new FrameWriter()
        .int(0x1200)
        .string('Operation timed out')
        .short(cl)
        .int(answer.received ?? 1)
        .int(answer.blockFor ?? 2)
        .byte(answer.dataPresent ? 1 : 0)
        .build();
    case 'overloaded':
      return encodeError({ code: 0x1001, message: answer.message ?? 'Server is overloaded' });
    case 'is_bootstrapping':
      return encodeError({ code: 0x1002, message: answer.message ?? 'Server is bootstrapping' });
    case 'invalid':
      return encodeError({ code: 0x2200, message: answer.message ?? 'Invalid query' });
    case 'server_error':
      return encodeError({ code: 0x0000, message: answer.message ?? 'Server error' });
  }
}

export function isError(answer: PrimedAnswer): boolean {
  return 'error' in answer;
}
