// A CQL native-protocol (v4) test server in the manner of DataStax's Simulacron: real TCP listeners,
// one per simulated node on 127.0.0.N and one shared port (drivers reach peers by rpc_address on the
// contact port), the system tables a driver reads at connect, primed answers and a query log. Beyond
// Simulacron, statements that no prime answers run on an in-memory table model (table-engine.ts), so a
// store can run its whole contract against it. A MODEL of Cassandra, not Cassandra: one copy of the
// data, consistency levels recorded but not enforced, Paxos reduced to one atomic step.

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { bindSpecs } from './bind-specs.ts';
import { CqlSyntaxError, parseStatement, type Statement } from './cql-statement.ts';
import {
  type CqlValue,
  consistencyNames,
  decodeValue,
  FrameReader,
  FrameWriter,
  headerBytes,
  opcode,
  protocolVersion,
  responseFrame,
} from './cql-wire.ts';
import { type Prime, PrimeBook, type RecordedQuery } from './primes.ts';
import {
  encodeError,
  encodeOutcome,
  encodePrepared,
  encodePrimed,
  isError,
  type ServerError,
} from './result-encoder.ts';
import { type NodeIdentity, nodeToken, systemTables } from './system-tables.ts';
import { type ColumnSpec, CqlInvalidError, type Outcome, TableEngine } from './table-engine.ts';

export type CqlTestServerOptions = { nodes?: number; dataCenter?: string; clusterName?: string };

type Prepared = { query: string; statement: Statement; params: ColumnSpec[] };
type Request = { query: string; statement?: Statement; values: (Buffer | null)[]; params?: ColumnSpec[] };
type Parameters = {
  consistency: string;
  serialConsistency?: string;
  timestamp?: bigint;
  values: (Buffer | null)[];
};

const systemKeyspaces = new Set([
  'system',
  'system_schema',
  'system_virtual_schema',
  'system_auth',
  'system_distributed',
  'system_traces',
]);

export class CqlTestServer {
  readonly engine = new TableEngine();
  readonly log: RecordedQuery[] = [];
  readonly dataCenter: string;
  private readonly book = new PrimeBook();
  private readonly prepared = new Map<string, Prepared>();
  private readonly listeners: (Server | null)[];
  private readonly sockets: Set<Socket>[];
  private readonly identities: NodeIdentity[];
  private readonly systems: TableEngine[];
  private lastMicros = 0n;

  private constructor(
    readonly port: number,
    readonly nodeCount: number,
    options: CqlTestServerOptions,
  ) {
    this.dataCenter = options.dataCenter ?? 'datacenter1';
    this.identities = Array.from({ length: nodeCount }, (_, i) => ({
      address: `127.0.0.${i + 1}`,
      dataCenter: this.dataCenter,
      rack: 'rack1',
      hostId: randomUUID(),
      token: nodeToken(i, nodeCount),
    }));
    this.systems = this.identities.map((_, i) =>
      systemTables(i, this.identities, options.clusterName ?? 'chatsim-cql-test'),
    );
    this.listeners = this.identities.map(() => null);
    this.sockets = this.identities.map(() => new Set());
  }

  /** Listens on 127.0.0.1..N, all on one free port. */
  static async start(options: CqlTestServerOptions = {}): Promise<CqlTestServer> {
    const nodes = options.nodes ?? 1;
    for (let attempt = 0; attempt < 20; attempt++) {
      const probe = await listen('127.0.0.1', 0, () => {});
      const port = (probe.address() as { port: number }).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const server = new CqlTestServer(port, nodes, options);
      try {
        for (let i = 0; i < nodes; i++) await server.startNode(i);
        return server;
      } catch {
        await server.close();
      }
    }
    throw new Error('CqlTestServer: no port free on every 127.0.0.N address');
  }

  /** host:port of each node, for the driver's contactPoints. */
  get contactPoints(): string[] {
    return this.identities.map((n) => `${n.address}:${this.port}`);
  }

  prime(prime: Prime): number {
    return this.book.add(prime);
  }

  clearPrimes(): void {
    this.book.clear();
  }

  /** Recorded statements whose text matches (all when no pattern). */
  queries(pattern?: RegExp): RecordedQuery[] {
    return pattern ? this.log.filter((q) => pattern.test(q.query)) : [...this.log];
  }

  /** A node goes down: its listener closes and every connection to it is reset. */
  async stopNode(index: number): Promise<void> {
    const listener = this.listeners[index];
    this.listeners[index] = null;
    for (const socket of this.sockets[index]!) socket.destroy();
    this.sockets[index]!.clear();
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  async startNode(index: number): Promise<void> {
    if (this.listeners[index] !== null) return;
    this.listeners[index] = await listen(this.identities[index]!.address, this.port, (socket) =>
      this.accept(index, socket),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.identities.map((_, i) => this.stopNode(i)));
  }

  private accept(node: number, socket: Socket): void {
    this.sockets[node]!.add(socket);
    socket.on('close', () => this.sockets[node]!.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    const session = { keyspace: undefined as string | undefined };
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= headerBytes) {
        const length = pending.readInt32BE(5);
        if (pending.length < headerBytes + length) break;
        const version = pending.readUInt8(0) & 0x7f;
        const stream = pending.readInt16BE(2);
        const op = pending.readUInt8(4);
        const body = pending.subarray(headerBytes, headerBytes + length);
        pending = pending.subarray(headerBytes + length);
        if (version !== protocolVersion) {
          // As Cassandra does: a protocol error in the highest version it speaks, so the driver
          // downgrades (cassandra-driver opens with DSE v2, 0x42, then v4) and reconnects.
          const message = `Invalid or unsupported protocol version (${version}); supported versions are (3/v3, 4/v4)`;
          socket.end(responseFrame(stream, opcode.error, encodeError({ code: 0x000a, message })));
          return;
        }
        void this.handle(node, socket, session, stream, op, body).catch((error: unknown) => {
          if (!socket.destroyed)
            socket.write(responseFrame(stream, opcode.error, encodeError(toServerError(error))));
        });
      }
    });
  }

  private async handle(
    node: number,
    socket: Socket,
    session: { keyspace?: string },
    stream: number,
    op: number,
    body: Buffer,
  ): Promise<void> {
    const reply = (code: number, payload: Buffer) => {
      if (!socket.destroyed) socket.write(responseFrame(stream, code, payload));
    };
    const r = new FrameReader(body);
    switch (op) {
      case opcode.startup: {
        const options = r.stringMap();
        if (options.COMPRESSION)
          return reply(
            opcode.error,
            encodeError({ code: 0x000a, message: 'compression is not supported by the test server' }),
          );
        return reply(opcode.ready, Buffer.alloc(0));
      }
      case opcode.options:
        return reply(opcode.supported, supportedBody());
      case opcode.register:
        r.stringList();
        return reply(opcode.ready, Buffer.alloc(0));
      case opcode.query: {
        const query = r.longString();
        const parameters = readParameters(r);
        const answer = await this.run(
          node,
          socket,
          session,
          'query',
          { query, values: parameters.values },
          parameters,
        );
        if (answer !== null) reply(answer.op, answer.body);
        return;
      }
      case opcode.prepare: {
        const query = r.longString();
        this.log.push({ node, kind: 'prepare', query, consistency: 'ONE', values: [] });
        return reply(opcode.result, this.prepare(query, session.keyspace));
      }
      case opcode.execute: {
        const id = r.shortBytes().toString('hex');
        const parameters = readParameters(r);
        const prepared = this.prepared.get(id);
        if (prepared === undefined)
          return reply(
            opcode.error,
            encodeError({
              code: 0x2500,
              message: `Prepared query with ID ${id} not found`,
              id: Buffer.from(id, 'hex'),
            }),
          );
        const request = {
          query: prepared.query,
          statement: prepared.statement,
          values: parameters.values,
          params: prepared.params,
        };
        const answer = await this.run(node, socket, session, 'execute', request, parameters);
        if (answer !== null) reply(answer.op, answer.body);
        return;
      }
      case opcode.batch:
        return this.batch(node, socket, session, r, reply);
      default:
        return reply(
          opcode.error,
          encodeError({ code: 0x000a, message: `opcode ${op} is not supported by the test server` }),
        );
    }
  }

  private prepare(query: string, keyspace: string | undefined): Buffer {
    const statement = parseStatement(query);
    const schema =
      'name' in statement
        ? this.engineFor(statement, keyspace, 0).schema(statement.name, keyspace)
        : undefined;
    const { params, partitionKeyIndexes } = bindSpecs(statement, schema);
    const id = createHash('md5').update(query).digest();
    this.prepared.set(id.toString('hex'), { query, statement, params });
    const conditional =
      (statement.kind === 'insert' && statement.ifNotExists) ||
      (statement.kind === 'update' && statement.conditions !== 'exists' && statement.conditions.length > 0);
    const resultColumns =
      statement.kind === 'select' && !conditional
        ? this.engineFor(statement, keyspace, 0).columnsOf(statement, keyspace)
        : [];
    return encodePrepared(id, params, partitionKeyIndexes, resultColumns);
  }

  /** Prime first, then the model. Null when the answer is a closed connection. */
  private async run(
    node: number,
    socket: Socket,
    session: { keyspace?: string },
    kind: 'query' | 'execute',
    request: Request,
    parameters: Parameters,
  ): Promise<{ op: number; body: Buffer } | null> {
    const record: RecordedQuery = {
      node,
      kind,
      query: request.query,
      consistency: parameters.consistency,
      values: [],
    };
    if (parameters.serialConsistency) record.serialConsistency = parameters.serialConsistency;
    this.log.push(record);
    const statement = request.statement ?? parseStatement(request.query);
    const values = this.decodeValues(statement, request, session.keyspace);
    record.values = values;
    const primed = this.book.take(request.query, parameters.consistency, node);
    if (primed !== undefined) {
      record.primed = primed.index;
      const { answer } = primed.prime;
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      if (answer.applyFirst) this.execute(node, statement, values, session, parameters);
      if ('closeConnection' in answer) {
        socket.destroy();
        return null;
      }
      return {
        op: isError(answer) ? opcode.error : opcode.result,
        body: encodePrimed(answer, parameters.consistency),
      };
    }
    return {
      op: opcode.result,
      body: encodeOutcome(this.execute(node, statement, values, session, parameters)),
    };
  }

  private async batch(
    node: number,
    socket: Socket,
    session: { keyspace?: string },
    r: FrameReader,
    reply: (code: number, payload: Buffer) => void,
  ): Promise<void> {
    r.byte(); // logged, unlogged or counter: the model applies a batch whole either way
    const children: Request[] = [];
    for (let n = r.short(); n > 0; n--) {
      const kind = r.byte();
      let request: Request;
      if (kind === 0) request = { query: r.longString(), values: [] };
      else {
        const prepared = this.prepared.get(r.shortBytes().toString('hex'));
        if (prepared === undefined)
          return reply(
            opcode.error,
            encodeError({ code: 0x2200, message: 'unknown prepared statement in batch' }),
          );
        request = {
          query: prepared.query,
          statement: prepared.statement,
          values: [],
          params: prepared.params,
        };
      }
      request.values = Array.from({ length: r.short() }, () => r.bytes());
      children.push(request);
    }
    const consistency = consistencyNames[r.short()]!;
    const flags = r.byte();
    const serialConsistency = flags & 0x10 ? consistencyNames[r.short()] : undefined;
    const timestamp = flags & 0x20 ? r.long() : undefined;
    const parameters: Parameters = {
      consistency,
      values: [],
      ...(serialConsistency ? { serialConsistency } : {}),
      ...(timestamp !== undefined ? { timestamp } : {}),
    };
    const statements = children.map((c) => {
      const statement = c.statement ?? parseStatement(c.query);
      const values = this.decodeValues(statement, c, session.keyspace);
      this.log.push({
        node,
        kind: 'batch',
        query: c.query,
        consistency,
        values,
        ...(serialConsistency ? { serialConsistency } : {}),
      });
      return { statement, values, query: c.query };
    });
    for (const s of statements) {
      const primed = this.book.take(s.query, consistency, node);
      if (primed === undefined) continue;
      if ('closeConnection' in primed.prime.answer) return void socket.destroy();
      const { answer } = primed.prime;
      return reply(isError(answer) ? opcode.error : opcode.result, encodePrimed(answer, consistency));
    }
    // A conditional batch applies all or nothing: every condition is checked before any write.
    for (const s of statements) {
      const check = this.execute(node, s.statement, s.values, session, parameters, true);
      if (check.kind === 'rows' && check.result.rows[0]?.[0] === false)
        return reply(opcode.result, encodeOutcome(check));
    }
    let last: Outcome = { kind: 'void' };
    for (const s of statements) last = this.execute(node, s.statement, s.values, session, parameters);
    reply(opcode.result, encodeOutcome(last));
  }

  private execute(
    node: number,
    statement: Statement,
    values: CqlValue[],
    session: { keyspace?: string },
    parameters: Parameters,
    checkOnly = false,
  ): Outcome {
    const engine = this.engineFor(statement, session.keyspace, node);
    const outcome = engine.execute(
      statement,
      values,
      session.keyspace,
      parameters.timestamp ?? this.nowMicros(),
      checkOnly,
    );
    if (outcome.kind === 'set-keyspace') session.keyspace = outcome.keyspace;
    return outcome;
  }

  /** System keyspaces differ by node (each node's peers are the others); the rest is shared. */
  private engineFor(statement: Statement, keyspace: string | undefined, node: number): TableEngine {
    const ks = 'name' in statement ? (statement.name.keyspace ?? keyspace) : undefined;
    return ks !== undefined && systemKeyspaces.has(ks) ? this.systems[node]! : this.engine;
  }

  private decodeValues(statement: Statement, request: Request, keyspace: string | undefined): CqlValue[] {
    if (request.values.length === 0) return [];
    const params =
      request.params ??
      bindSpecs(
        statement,
        'name' in statement
          ? this.engineFor(statement, keyspace, 0).schema(statement.name, keyspace)
          : undefined,
      ).params;
    if (params.length !== request.values.length)
      throw new CqlInvalidError(
        `There were ${params.length} markers(?) in CQL but ${request.values.length} bound variables`,
      );
    return request.values.map((bytes, i) => decodeValue(params[i]!.type, bytes));
  }

  /** Microseconds that only grow, like a coordinator's write timestamps. */
  private nowMicros(): bigint {
    const now = BigInt(Date.now()) * 1000n;
    this.lastMicros = now > this.lastMicros ? now : this.lastMicros + 1n;
    return this.lastMicros;
  }
}

function readParameters(r: FrameReader): Parameters {
  const consistency = consistencyNames[r.short()] ?? 'UNKNOWN';
  const flags = r.byte();
  const out: Parameters = { consistency, values: [] };
  if (flags & 0x40) throw new CqlInvalidError('named values are not supported by the test server');
  if (flags & 0x01) out.values = Array.from({ length: r.short() }, () => r.bytes());
  if (flags & 0x04) r.int(); // page size: the model answers every row in one page
  if (flags & 0x08) r.bytes();
  if (flags & 0x10) out.serialConsistency = consistencyNames[r.short()];
  if (flags & 0x20) out.timestamp = r.long();
  return out;
}

function supportedBody(): Buffer {
  return new FrameWriter()
    .stringMultimap({ CQL_VERSION: ['3.4.4'], COMPRESSION: [], PROTOCOL_VERSIONS: ['3/v3', '4/v4'] })
    .build();
}

function toServerError(error: unknown): ServerError {
  if (error instanceof CqlSyntaxError) return { code: 0x2000, message: error.message };
  if (error instanceof CqlInvalidError) return { code: 0x2200, message: error.message };
  return { code: 0x0000, message: error instanceof Error ? error.message : String(error) };
}

function listen(host: string, port: number, onSocket: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onSocket);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
