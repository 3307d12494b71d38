// The types of a statement's bind markers, as a PREPARED result announces them (the driver encodes
// every parameter by them), and the partition-key indexes it uses for token-aware routing.

import type { Statement, Term } from './cql-statement.ts';
import type { CqlType } from './cql-wire.ts';
import type { ColumnSpec, TableSchema } from './table-engine.ts';

export type BindSpecs = { params: ColumnSpec[]; partitionKeyIndexes: number[] };

export function bindSpecs(statement: Statement, schema: TableSchema | undefined): BindSpecs {
  const params: ColumnSpec[] = [];
  if (schema === undefined) return { params, partitionKeyIndexes: [] };
  const spec = (name: string, type: CqlType): ColumnSpec => ({
    keyspace: schema.keyspace,
    table: schema.table,
    name,
    type,
  });
  const column = (name: string): CqlType => {
    const c = schema.columns.get(name);
    if (c === undefined) throw new Error(`Undefined column name ${name}`);
    return c.type;
  };
  const bound = new Map<string, number>();
  const add = (term: Term | undefined, name: string, type: CqlType, keyColumn?: string) => {
    if (term === undefined || !('bind' in term)) return;
    params[term.bind] = spec(name, type);
    if (keyColumn !== undefined) bound.set(keyColumn, term.bind);
  };
  const timestamp = (term: Term | undefined) => add(term, '[timestamp]', { kind: 'bigint' });
  switch (statement.kind) {
    case 'select':
      for (const r of statement.where)
        add(r.term, r.column, column(r.column), r.op === '=' ? r.column : undefined);
      add(statement.limit, '[limit]', { kind: 'int' });
      break;
    case 'insert':
      statement.columns.forEach((c, i) => {
        add(statement.values[i], c, column(c), c);
      });
      timestamp(statement.timestamp);
      break;
    case 'update':
      timestamp(statement.timestamp);
      for (const a of statement.set) {
        const type = column(a.column);
        if (a.mapKey !== undefined && type.kind === 'map') {
          add(a.mapKey, `key(${a.column})`, type.key);
          add(a.term, `value(${a.column})`, type.value);
        } else add(a.term, a.column, type);
      }
      for (const r of statement.where) add(r.term, r.column, column(r.column), r.column);
      if (statement.conditions !== 'exists')
        for (const r of statement.conditions) add(r.term, r.column, column(r.column));
      break;
    default:
      break;
  }
  const pk = schema.partitionKey.map((c) => bound.get(c));
  const partitionKeyIndexes = pk.every((i) => i !== undefined) ? (pk as number[]) : [];
  return { params, partitionKeyIndexes };
}
