// An in-memory model of Cassandra tables, enough to run a store's own statements through the real
// driver: partitions by partition key, rows sorted by clustering key, last-write-wins cells by write
// timestamp (so `USING TIMESTAMP` behaves), and lightweight transactions (IF NOT EXISTS, IF EXISTS,
// IF col op value) applied atomically because the model has one copy and one thread. It is a MODEL of
// Cassandra, not Cassandra: no replicas, no Paxos rounds, no tombstones, no paging, no secondary indexes.

import type { Relation, Statement, TableName, Term } from './cql-statement.ts';
import type { CqlType, CqlValue } from './cql-wire.ts';

export type ColumnSpec = { keyspace: string; table: string; name: string; type: CqlType };
export type ResultRows = { columns: ColumnSpec[]; rows: CqlValue[][] };
export type Outcome =
  | { kind: 'void' }
  | { kind: 'rows'; result: ResultRows }
  | { kind: 'set-keyspace'; keyspace: string }
  | {
      kind: 'schema-change';
      change: 'CREATED';
      target: 'KEYSPACE' | 'TABLE';
      keyspace: string;
      table?: string;
    };

export class CqlInvalidError extends Error {}

type Cell = { value: CqlValue; ts: bigint };
type Row = { clustering: CqlValue[]; cells: Map<string, Cell>; exists: boolean };
type Partition = { statics: Map<string, Cell>; rows: Row[] };

export type TableSchema = {
  keyspace: string;
  table: string;
  columns: Map<string, { type: CqlType; isStatic: boolean }>;
  partitionKey: string[];
  clustering: string[];
};

class Table {
  readonly partitions = new Map<string, { key: CqlValue[]; partition: Partition }>();
  constructor(readonly schema: TableSchema) {}
}

export class TableEngine {
  private readonly keyspaces = new Map<string, Map<string, Table>>();

  createKeyspace(name: string): boolean {
    if (this.keyspaces.has(name)) return false;
    this.keyspaces.set(name, new Map());
    return true;
  }

  createTable(schema: TableSchema): boolean {
    const tables = this.keyspaces.get(schema.keyspace);
    if (tables === undefined) throw new CqlInvalidError(`Keyspace ${schema.keyspace} does not exist`);
    if (tables.has(schema.table)) return false;
    tables.set(schema.table, new Table(schema));
    return true;
  }

  hasKeyspace(name: string): boolean {
    return this.keyspaces.has(name);
  }

  schema(name: TableName, keyspace: string | undefined): TableSchema {
    const ks = name.keyspace ?? keyspace;
    if (ks === undefined)
      throw new CqlInvalidError(
        'No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename',
      );
    const table = this.keyspaces.get(ks)?.get(name.table);
    if (table === undefined) throw new CqlInvalidError(`unconfigured table ${name.table}`);
    return table.schema;
  }

  /** Runs one statement with its bound values at write timestamp `now` (microseconds). */
  execute(
    statement: Statement,
    values: CqlValue[],
    keyspace: string | undefined,
    now: bigint,
    checkOnly = false,
  ): Outcome {
    const value = (term: Term): CqlValue => ('bind' in term ? (values[term.bind] ?? null) : term.literal);
    switch (statement.kind) {
      case 'use':
        if (!this.keyspaces.has(statement.keyspace))
          throw new CqlInvalidError(`Keyspace '${statement.keyspace}' does not exist`);
        return { kind: 'set-keyspace', keyspace: statement.keyspace };
      case 'create-keyspace':
        return this.createKeyspace(statement.keyspace)
          ? { kind: 'schema-change', change: 'CREATED', target: 'KEYSPACE', keyspace: statement.keyspace }
          : { kind: 'void' };
      case 'create-table': {
        const ks = statement.name.keyspace ?? keyspace;
        if (ks === undefined) throw new CqlInvalidError('No keyspace has been specified');
        const columns = new Map(
          statement.columns.map((c) => [c.name, { type: c.type, isStatic: c.isStatic }]),
        );
        const created = this.createTable({
          keyspace: ks,
          table: statement.name.table,
          columns,
          partitionKey: statement.partitionKey,
          clustering: statement.clustering,
        });
        return created
          ? {
              kind: 'schema-change',
              change: 'CREATED',
              target: 'TABLE',
              keyspace: ks,
              table: statement.name.table,
            }
          : { kind: 'void' };
      }
      case 'select':
        return { kind: 'rows', result: this.select(statement, value, keyspace) };
      case 'insert':
      case 'update':
        return this.write(statement, value, keyspace, now, checkOnly);
    }
  }

  /** The columns a SELECT answers, for a PREPARED result's metadata. */
  columnsOf(statement: Statement, keyspace: string | undefined): ColumnSpec[] {
    if (statement.kind !== 'select') return [];
    const schema = this.schema(statement.name, keyspace);
    const names = statement.columns === '*' ? starColumns(schema) : statement.columns;
    return names.map((name) => {
      const column = schema.columns.get(name);
      if (column === undefined) throw new CqlInvalidError(`Undefined column name ${name}`);
      return { keyspace: schema.keyspace, table: schema.table, name, type: column.type };
    });
  }

  private table(name: TableName, keyspace: string | undefined): Table {
    const schema = this.schema(name, keyspace);
    return this.keyspaces.get(schema.keyspace)!.get(schema.table)!;
  }

  private select(
    statement: Extract<Statement, { kind: 'select' }>,
    value: (t: Term) => CqlValue,
    keyspace: string | undefined,
  ): ResultRows {
    const table = this.table(statement.name, keyspace);
    const { schema } = table;
    const columns = this.columnsOf(statement, keyspace);
    const names = columns.map((c) => c.name);
    const partitionRelations = statement.where.filter((r) => schema.partitionKey.includes(r.column));
    let partitions: { key: CqlValue[]; partition: Partition }[];
    if (partitionRelations.length === 0) partitions = [...table.partitions.values()];
    else {
      const key = schema.partitionKey.map((c) => {
        const r = partitionRelations.find((rel) => rel.column === c && rel.op === '=');
        if (r === undefined)
          throw new CqlInvalidError(
            `Cannot execute this query: partition key column ${c} is not restricted by an equality`,
          );
        return value(r.term);
      });
      const found = table.partitions.get(keyOf(key));
      partitions = found ? [found] : [];
    }
    const clusteringRelations = statement.where.filter((r) => !schema.partitionKey.includes(r.column));
    for (const r of clusteringRelations)
      if (!schema.clustering.includes(r.column))
        throw new CqlInvalidError(`Cannot restrict non-key column ${r.column} without ALLOW FILTERING`);
    const rows: CqlValue[][] = [];
    for (const { key, partition } of partitions) {
      let matching = partition.rows.filter(
        (row) =>
          row.exists &&
          clusteringRelations.every((r) =>
            compareOk(row.clustering[schema.clustering.indexOf(r.column)]!, r.op, value(r.term)),
          ),
      );
      if (schema.clustering.length === 0 && partition.rows.length === 0 && partition.statics.size > 0)
        matching = [{ clustering: [], cells: new Map(), exists: true }];
      if (statement.descending) matching = [...matching].reverse();
      for (const row of matching) rows.push(names.map((n) => cellValue(schema, key, partition, row, n)));
    }
    const limit = statement.limit ? Number(value(statement.limit)) : Number.POSITIVE_INFINITY;
    return { columns, rows: rows.slice(0, limit) };
  }

  private write(
    statement: Extract<Statement, { kind: 'insert' | 'update' }>,
    value: (t: Term) => CqlValue,
    keyspace: string | undefined,
    now: bigint,
    checkOnly: boolean,
  ): Outcome {
    const table = this.table(statement.name, keyspace);
    const { schema } = table;
    const assigned = new Map<string, CqlValue>();
    const mapPuts: { column: string; key: CqlValue; value: CqlValue }[] = [];
    let keyValues: Map<string, CqlValue>;
    if (statement.kind === 'insert') {
      keyValues = new Map(statement.columns.map((c, i) => [c, value(statement.values[i]!)]));
      for (const [c, v] of keyValues) if (!isKey(schema, c)) assigned.set(c, v);
    } else {
      keyValues = new Map(
        statement.where.map((r) => {
          if (r.op !== '=' || !isKey(schema, r.column))
            throw new CqlInvalidError(`Non PRIMARY KEY columns found in where clause: ${r.column}`);
          return [r.column, value(r.term)];
        }),
      );
      for (const a of statement.set)
        if (a.mapKey !== undefined)
          mapPuts.push({ column: a.column, key: value(a.mapKey), value: value(a.term) });
        else assigned.set(a.column, value(a.term));
    }
    for (const c of [...assigned.keys(), ...mapPuts.map((m) => m.column)])
      if (!schema.columns.has(c)) throw new CqlInvalidError(`Undefined column name ${c}`);
    const pk = schema.partitionKey.map((c) => requireKey(keyValues, c));
    const onlyStatics = [...assigned.keys(), ...mapPuts.map((m) => m.column)].every(
      (c) => schema.columns.get(c)!.isStatic,
    );
    const clustering =
      schema.clustering.length > 0 &&
      !(statement.kind === 'update' && onlyStatics && !schema.clustering.some((c) => keyValues.has(c)))
        ? schema.clustering.map((c) => requireKey(keyValues, c))
        : null;
    let entry = table.partitions.get(keyOf(pk));
    const existing = entry === undefined ? undefined : findRow(entry.partition, clustering ?? []);
    const rowExists =
      schema.clustering.length === 0 && clustering === null
        ? existing?.exists === true ||
          (entry?.partition.statics.size ?? 0) > 0 ||
          (existing?.cells.size ?? 0) > 0
        : existing?.exists === true;
    const conditional =
      statement.kind === 'insert'
        ? statement.ifNotExists
        : statement.conditions === 'exists' || statement.conditions.length > 0;
    if (conditional) {
      const failed = this.checkConditions(
        statement,
        schema,
        pk,
        entry?.partition,
        existing,
        rowExists,
        value,
      );
      if (failed !== null) return { kind: 'rows', result: failed };
      if (checkOnly) return { kind: 'rows', result: applied(true, schema) };
    }
    if (entry === undefined) {
      entry = { key: pk, partition: { statics: new Map(), rows: [] } };
      table.partitions.set(keyOf(pk), entry);
    }
    const ts = statement.timestamp ? BigInt(value(statement.timestamp) as bigint) : now;
    const row = insertRow(entry.partition, clustering ?? []);
    if (statement.kind === 'insert') row.exists = true;
    else row.exists = row.exists || assigned.size + mapPuts.length > 0;
    for (const [c, v] of assigned)
      writeCell(schema.columns.get(c)!.isStatic ? entry.partition.statics : row.cells, c, v, ts);
    for (const put of mapPuts) {
      const cells = schema.columns.get(put.column)!.isStatic ? entry.partition.statics : row.cells;
      const old = cells.get(put.column)?.value;
      const merged = new Map(old instanceof Map ? old : []);
      if (put.value === null) merged.delete(put.key);
      else merged.set(put.key, put.value);
      cells.set(put.column, { value: merged, ts });
    }
    return conditional ? { kind: 'rows', result: applied(true, schema) } : { kind: 'void' };
  }

  /** Null when the conditions hold; else the `[applied]=false` rows Cassandra answers. */
  private checkConditions(
    statement: Extract<Statement, { kind: 'insert' | 'update' }>,
    schema: TableSchema,
    pk: CqlValue[],
    partition: Partition | undefined,
    existing: Row | undefined,
    rowExists: boolean,
    value: (t: Term) => CqlValue,
  ): ResultRows | null {
    if (statement.kind === 'insert') {
      if (!rowExists) return null;
      const names = starColumns(schema);
      const result = applied(false, schema, names);
      result.rows[0]!.push(
        ...names.map((n) =>
          cellValue(
            schema,
            pk,
            partition!,
            existing ?? { clustering: [], cells: new Map(), exists: true },
            n,
          ),
        ),
      );
      return result;
    }
    if (statement.conditions === 'exists') return rowExists ? null : applied(false, schema);
    const conditions: Relation[] = statement.conditions;
    const current = (column: string): CqlValue =>
      partition === undefined
        ? null
        : cellValue(
            schema,
            pk,
            partition,
            existing ?? { clustering: [], cells: new Map(), exists: false },
            column,
          );
    const holds = rowExists && conditions.every((c) => compareOk(current(c.column), c.op, value(c.term)));
    if (holds) return null;
    const names = [...new Set(conditions.map((c) => c.column))];
    const result = applied(false, schema, names);
    if (rowExists) result.rows[0]!.push(...names.map(current));
    else result.columns.splice(1);
    return result;
  }
}

function starColumns(schema: TableSchema): string[] {
  const keys = [...schema.partitionKey, ...schema.clustering];
  const others = [...schema.columns.keys()].filter((c) => !keys.includes(c)).sort();
  return [...keys, ...others];
}

function applied(ok: boolean, schema: TableSchema, extra: string[] = []): ResultRows {
  const columns: ColumnSpec[] = [
    { keyspace: schema.keyspace, table: schema.table, name: '[applied]', type: { kind: 'boolean' } },
    ...extra.map((name) => ({
      keyspace: schema.keyspace,
      table: schema.table,
      name,
      type: schema.columns.get(name)!.type,
    })),
  ];
  return { columns, rows: [[ok]] };
}

function isKey(schema: TableSchema, column: string): boolean {
  return schema.partitionKey.includes(column) || schema.clustering.includes(column);
}

function requireKey(values: Map<string, CqlValue>, column: string): CqlValue {
  const v = values.get(column);
  if (v === undefined || v === null)
    throw new CqlInvalidError(`Some primary key parts are missing: ${column}`);
  return v;
}

function cellValue(
  schema: TableSchema,
  pk: CqlValue[],
  partition: Partition,
  row: Row,
  column: string,
): CqlValue {
  const p = schema.partitionKey.indexOf(column);
  if (p >= 0) return pk[p]!;
  const c = schema.clustering.indexOf(column);
  if (c >= 0) return row.clustering[c] ?? null;
  const cells = schema.columns.get(column)!.isStatic ? partition.statics : row.cells;
  return cells.get(column)?.value ?? null;
}

function writeCell(cells: Map<string, Cell>, column: string, value: CqlValue, ts: bigint): void {
  const old = cells.get(column);
  if (old !== undefined && old.ts > ts) return; // last write wins, by write timestamp
  cells.set(column, { value, ts });
}

function keyOf(values: CqlValue[]): string {
  return JSON.stringify(values.map((v) => (typeof v === 'bigint' ? `${v}n` : v)));
}

export function compare(a: CqlValue, b: CqlValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    if (typeof a === 'number' || typeof b === 'number') return Number(a) - Number(b);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareOk(current: CqlValue, op: Relation['op'], wanted: CqlValue): boolean {
  if (op === '=' || op === '!=') {
    const same = current === null || wanted === null ? current === wanted : sameValue(current, wanted);
    return op === '=' ? same : !same;
  }
  if (current === null || wanted === null) return false;
  const c = compare(current, wanted);
  return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
}

function sameValue(a: CqlValue, b: CqlValue): boolean {
  if (a instanceof Map && b instanceof Map)
    return a.size === b.size && [...a].every(([k, v]) => b.has(k) && sameValue(v, b.get(k)!));
  if (typeof a === 'bigint' || typeof b === 'bigint') return compare(a, b) === 0;
  return a === b;
}

function findRow(partition: Partition, clustering: CqlValue[]): Row | undefined {
  const i = lowerBound(partition.rows, clustering);
  const row = partition.rows[i];
  return row !== undefined && compareKeys(row.clustering, clustering) === 0 ? row : undefined;
}

function insertRow(partition: Partition, clustering: CqlValue[]): Row {
  const i = lowerBound(partition.rows, clustering);
  const found = partition.rows[i];
  if (found !== undefined && compareKeys(found.clustering, clustering) === 0) return found;
  const row: Row = { clustering, cells: new Map(), exists: false };
  partition.rows.splice(i, 0, row);
  return row;
}

function lowerBound(rows: Row[], clustering: CqlValue[]): number {
  let [lo, hi] = [0, rows.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareKeys(rows[mid]!.clustering, clustering) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compareKeys(a: CqlValue[], b: CqlValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compare(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}
