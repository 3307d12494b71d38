// A parser for the CQL the test server executes: the shapes a store and the driver actually send
// (CREATE KEYSPACE/TABLE, USE, SELECT with key relations, ORDER BY and LIMIT, INSERT and UPDATE with
// USING TIMESTAMP and lightweight-transaction conditions). Anything else is a syntax error the client
// sees, as it would from a server that does not understand it: never a silent empty answer.

import type { CqlType, CqlValue } from './cql-wire.ts';

export type Term = { bind: number } | { literal: CqlValue };
export type Operator = '=' | '<' | '>' | '<=' | '>=' | '!=';
export type Relation = { column: string; op: Operator; term: Term };
export type Assignment = { column: string; mapKey?: Term; term: Term };
export type TableName = { keyspace?: string; table: string };

export type Statement =
  | { kind: 'create-keyspace'; keyspace: string }
  | {
      kind: 'create-table';
      name: TableName;
      columns: { name: string; type: CqlType; isStatic: boolean }[];
      partitionKey: string[];
      clustering: string[];
    }
  | { kind: 'use'; keyspace: string }
  | {
      kind: 'select';
      name: TableName;
      columns: string[] | '*';
      where: Relation[];
      descending: boolean;
      limit?: Term;
    }
  | {
      kind: 'insert';
      name: TableName;
      columns: string[];
      values: Term[];
      ifNotExists: boolean;
      timestamp?: Term;
    }
  | {
      kind: 'update';
      name: TableName;
      set: Assignment[];
      where: Relation[];
      conditions: Relation[] | 'exists';
      timestamp?: Term;
    };

export class CqlSyntaxError extends Error {}

const tokenPattern =
  /\s*(?:('(?:[^']|'')*')|("(?:[^"]|"")*")|(-?\d+(?:\.\d+)?)|(<=|>=|!=|[(),;.=<>?*{}:[\]])|([A-Za-z_][A-Za-z0-9_]*))/y;

type Token = { text: string; kind: 'string' | 'quoted' | 'number' | 'punct' | 'word' };

function tokenize(cql: string): Token[] {
  const out: Token[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < cql.length) {
    const match = tokenPattern.exec(cql);
    if (match === null) break;
    const [, str, quoted, num, punct, word] = match;
    if (str !== undefined) out.push({ text: str.slice(1, -1).replaceAll("''", "'"), kind: 'string' });
    else if (quoted !== undefined)
      out.push({ text: quoted.slice(1, -1).replaceAll('""', '"'), kind: 'quoted' });
    else if (num !== undefined) out.push({ text: num, kind: 'number' });
    else if (punct !== undefined) out.push({ text: punct, kind: 'punct' });
    else if (word !== undefined) out.push({ text: word, kind: 'word' });
    if (tokenPattern.lastIndex === match.index) break;
  }
  if (cql.slice(tokenPattern.lastIndex).trim() !== '')
    throw new CqlSyntaxError(
      `line 1: cannot read '${cql.slice(tokenPattern.lastIndex, tokenPattern.lastIndex + 20)}'`,
    );
  return out;
}

const nativeTypes: Record<string, CqlType['kind']> = {
  text: 'text',
  varchar: 'text',
  ascii: 'text',
  bigint: 'bigint',
  counter: 'bigint',
  int: 'int',
  boolean: 'boolean',
  inet: 'inet',
  uuid: 'uuid',
  timeuuid: 'uuid',
  timestamp: 'timestamp',
  blob: 'blob',
  double: 'double',
};

class Parser {
  private at = 0;
  private binds = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(word?: string): boolean {
    const t = this.tokens[this.at];
    return t !== undefined && (word === undefined || t.text.toLowerCase() === word.toLowerCase());
  }
  next(): Token {
    const t = this.tokens[this.at++];
    if (t === undefined) throw new CqlSyntaxError('unexpected end of statement');
    return t;
  }
  expect(word: string): void {
    const t = this.next();
    if (t.text.toLowerCase() !== word.toLowerCase())
      throw new CqlSyntaxError(`expected '${word}' but found '${t.text}'`);
  }
  accept(...words: string[]): boolean {
    const start = this.at;
    for (const w of words)
      if (!this.peek(w)) {
        this.at = start;
        return false;
      } else this.at++;
    return true;
  }
  identifier(): string {
    const t = this.next();
    if (t.kind === 'quoted') return t.text;
    if (t.kind !== 'word') throw new CqlSyntaxError(`expected a name but found '${t.text}'`);
    return t.text.toLowerCase();
  }
  tableName(): TableName {
    const first = this.identifier();
    if (this.accept('.')) return { keyspace: first, table: this.identifier() };
    return { table: first };
  }
  term(): Term {
    const t = this.next();
    if (t.text === '?') return { bind: this.binds++ };
    if (t.kind === 'string') return { literal: t.text };
    if (t.kind === 'number') return { literal: t.text.includes('.') ? Number(t.text) : BigInt(t.text) };
    if (t.kind === 'word' && /^(true|false)$/i.test(t.text))
      return { literal: t.text.toLowerCase() === 'true' };
    if (t.kind === 'word' && /^null$/i.test(t.text)) return { literal: null };
    throw new CqlSyntaxError(`expected a value but found '${t.text}'`);
  }
  relations(): Relation[] {
    const out: Relation[] = [];
    do {
      const column = this.identifier();
      const op = this.next().text as Operator;
      if (!['=', '<', '>', '<=', '>=', '!='].includes(op))
        throw new CqlSyntaxError(`unsupported operator '${op}'`);
      out.push({ column, op, term: this.term() });
    } while (this.accept('and'));
    return out;
  }
  type(): CqlType {
    const name = this.identifier();
    if (name === 'frozen') {
      this.expect('<');
      const inner = this.type();
      this.expect('>');
      return inner;
    }
    if (name === 'list' || name === 'set') {
      this.expect('<');
      const element = this.type();
      this.expect('>');
      return { kind: name, element };
    }
    if (name === 'map') {
      this.expect('<');
      const key = this.type();
      this.expect(',');
      const value = this.type();
      this.expect('>');
      return { kind: 'map', key, value };
    }
    const kind = nativeTypes[name];
    if (kind === undefined) throw new CqlSyntaxError(`unknown type '${name}'`);
    return { kind } as CqlType;
  }
  timestamp(): Term | undefined {
    if (!this.accept('using')) return undefined;
    this.expect('timestamp');
    return this.term();
  }
  skipRest(): void {
    this.at = this.tokens.length;
  }
  done(): void {
    this.accept(';');
    if (this.at !== this.tokens.length)
      throw new CqlSyntaxError(`unexpected '${this.tokens[this.at]!.text}'`);
  }
}

export function parseStatement(cql: string): Statement {
  const p = new Parser(tokenize(cql));
  const statement = parseWith(p);
  p.done();
  return statement;
}

function parseWith(p: Parser): Statement {
  if (p.accept('use')) return { kind: 'use', keyspace: p.identifier() };
  if (p.accept('create', 'keyspace')) {
    p.accept('if', 'not', 'exists');
    const keyspace = p.identifier();
    p.skipRest(); // WITH replication = {...}: the model keeps one copy, whatever the strategy says
    return { kind: 'create-keyspace', keyspace };
  }
  if (p.accept('create', 'table')) return createTable(p);
  if (p.accept('select')) return select(p);
  if (p.accept('insert', 'into')) return insert(p);
  if (p.accept('update')) return update(p);
  throw new CqlSyntaxError(`the test server does not model '${p.peek() ? p.next().text : ''}' statements`);
}

function createTable(p: Parser): Statement {
  p.accept('if', 'not', 'exists');
  const name = p.tableName();
  p.expect('(');
  const columns: { name: string; type: CqlType; isStatic: boolean }[] = [];
  let partitionKey: string[] = [];
  let clustering: string[] = [];
  do {
    if (p.accept('primary', 'key')) {
      p.expect('(');
      if (p.accept('(')) {
        do partitionKey.push(p.identifier());
        while (p.accept(','));
        p.expect(')');
      } else partitionKey = [p.identifier()];
      while (p.accept(',')) clustering.push(p.identifier());
      p.expect(')');
      continue;
    }
    const column = { name: p.identifier(), type: p.type(), isStatic: false };
    if (p.accept('static')) column.isStatic = true;
    if (p.accept('primary', 'key')) partitionKey = [column.name];
    columns.push(column);
  } while (p.accept(','));
  p.expect(')');
  if (p.accept('with')) p.skipRest(); // table options (clustering order is ascending in the model)
  if (partitionKey.length === 0) throw new CqlSyntaxError('a table needs a PRIMARY KEY');
  clustering = clustering.filter((c) => c.length > 0);
  return { kind: 'create-table', name, columns, partitionKey, clustering };
}

function select(p: Parser): Statement {
  let columns: string[] | '*' = '*';
  if (!p.accept('*')) {
    columns = [];
    do columns.push(p.identifier());
    while (p.accept(','));
  }
  p.expect('from');
  const name = p.tableName();
  const where = p.accept('where') ? p.relations() : [];
  let descending = false;
  if (p.accept('order', 'by')) {
    p.identifier();
    descending = p.accept('desc');
    if (!descending) p.accept('asc');
  }
  const limit = p.accept('limit') ? p.term() : undefined;
  return { kind: 'select', name, columns, where, descending, ...(limit ? { limit } : {}) };
}

function insert(p: Parser): Statement {
  const name = p.tableName();
  const columns: string[] = [];
  p.expect('(');
  do columns.push(p.identifier());
  while (p.accept(','));
  p.expect(')');
  p.expect('values');
  p.expect('(');
  const values: Term[] = [];
  do values.push(p.term());
  while (p.accept(','));
  p.expect(')');
  const ifNotExists = p.accept('if', 'not', 'exists');
  const timestamp = p.timestamp();
  if (columns.length !== values.length) throw new CqlSyntaxError('unmatched column names/values');
  return { kind: 'insert', name, columns, values, ifNotExists, ...(timestamp ? { timestamp } : {}) };
}

function update(p: Parser): Statement {
  const name = p.tableName();
  const timestamp = p.timestamp();
  p.expect('set');
  const set: Assignment[] = [];
  do {
    const column = p.identifier();
    let mapKey: Term | undefined;
    if (p.accept('[')) {
      mapKey = p.term();
      p.expect(']');
    }
    p.expect('=');
    set.push({ column, term: p.term(), ...(mapKey ? { mapKey } : {}) });
  } while (p.accept(','));
  p.expect('where');
  const where = p.relations();
  let conditions: Relation[] | 'exists' = [];
  if (p.accept('if')) conditions = p.accept('exists') ? 'exists' : p.relations();
  return { kind: 'update', name, set, where, conditions, ...(timestamp ? { timestamp } : {}) };
}
