// The bytes of CQL native protocol v4 (Cassandra's doc/native_protocol_v4.spec): the 9-byte frame
// header, the notations of section 3 ([int], [string], [bytes], [value], [option], maps and lists) and
// the serialisation of the column types the test server models (section 6). Only what the server needs;
// compression and the v5 framing are refused at the handshake.

export const protocolVersion = 4;
export const headerBytes = 9;

export const opcode = {
  error: 0x00,
  startup: 0x01,
  ready: 0x02,
  options: 0x05,
  supported: 0x06,
  query: 0x07,
  result: 0x08,
  prepare: 0x09,
  execute: 0x0a,
  register: 0x0b,
  event: 0x0c,
  batch: 0x0d,
} as const;

/** A column type: a native name, or a collection of them. */
export type CqlType =
  | { kind: 'text' | 'bigint' | 'int' | 'boolean' | 'inet' | 'uuid' | 'timestamp' | 'blob' | 'double' }
  | { kind: 'list' | 'set'; element: CqlType }
  | { kind: 'map'; key: CqlType; value: CqlType };

/** A value held by the server: text is a string, bigint/timestamp a bigint, collections arrays/Maps. */
export type CqlValue =
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | CqlValue[]
  | Map<CqlValue, CqlValue>
  | null;

const typeIds: Record<string, number> = {
  blob: 0x0003,
  bigint: 0x0002,
  boolean: 0x0004,
  double: 0x0007,
  int: 0x0009,
  timestamp: 0x000b,
  uuid: 0x000c,
  text: 0x000d,
  inet: 0x0010,
  list: 0x0020,
  map: 0x0021,
  set: 0x0022,
};

export class FrameReader {
  offset = 0;
  constructor(readonly buffer: Buffer) {}

  byte(): number {
    return this.buffer.readUInt8(this.offset++);
  }
  short(): number {
    const v = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int(): number {
    const v = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  long(): bigint {
    const v = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  private take(n: number): Buffer {
    if (this.offset + n > this.buffer.length) throw new RangeError('frame body too short');
    const out = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  string(): string {
    return this.take(this.short()).toString('utf8');
  }
  longString(): string {
    return this.take(this.int()).toString('utf8');
  }
  shortBytes(): Buffer {
    return this.take(this.short());
  }
  /** [bytes] or [value]: null for a negative length (-2, "not set", is read as null too). */
  bytes(): Buffer | null {
    const n = this.int();
    return n < 0 ? null : this.take(n);
  }
  stringMap(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let n = this.short(); n > 0; n--) out[this.string()] = this.string();
    return out;
  }
  stringList(): string[] {
    return Array.from({ length: this.short() }, () => this.string());
  }
}

export class FrameWriter {
  private readonly parts: Buffer[] = [];

  byte(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  short(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  string(v: string): this {
    const b = Buffer.from(v, 'utf8');
    return this.short(b.length).raw(b);
  }
  shortBytes(v: Buffer): this {
    return this.short(v.length).raw(v);
  }
  bytes(v: Buffer | null): this {
    return v === null ? this.int(-1) : this.int(v.length).raw(v);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  stringMultimap(map: Record<string, string[]>): this {
    this.short(Object.keys(map).length);
    for (const [key, values] of Object.entries(map)) {
      this.string(key).short(values.length);
      for (const v of values) this.string(v);
    }
    return this;
  }
  option(type: CqlType): this {
    this.short(typeIds[type.kind]!);
    if (type.kind === 'list' || type.kind === 'set') this.option(type.element);
    if (type.kind === 'map') this.option(type.key).option(type.value);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** One response frame: version byte with the response bit set, no flags. */
export function responseFrame(stream: number, op: number, body: Buffer, version = protocolVersion): Buffer {
  const header = Buffer.alloc(headerBytes);
  header.writeUInt8(0x80 | version, 0);
  header.writeUInt8(0, 1);
  header.writeInt16BE(stream, 2);
  header.writeUInt8(op, 4);
  header.writeInt32BE(body.length, 5);
  return Buffer.concat([header, body]);
}

export function encodeValue(type: CqlType, value: CqlValue): Buffer | null {
  if (value === null) return null;
  switch (type.kind) {
    case 'text':
      return Buffer.from(String(value), 'utf8');
    case 'blob':
      return value as Buffer;
    case 'boolean':
      return Buffer.from([value ? 1 : 0]);
    case 'int': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(value));
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(value));
      return b;
    }
    case 'bigint':
    case 'timestamp': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(value as bigint));
      return b;
    }
    case 'uuid':
      return Buffer.from(String(value).replaceAll('-', ''), 'hex');
    case 'inet':
      return Buffer.from(String(value).split('.').map(Number));
    case 'list':
    case 'set':
      return collection((value as CqlValue[]).map((v) => [encodeValue(type.element, v)]));
    case 'map':
      return collection(
        [...(value as Map<CqlValue, CqlValue>)].map(([k, v]) => [
          encodeValue(type.key, k),
          encodeValue(type.value, v),
        ]),
      );
  }
}

function collection(entries: (Buffer | null)[][]): Buffer {
  const w = new FrameWriter().int(entries.length);
  for (const entry of entries) for (const part of entry) w.bytes(part);
  return w.build();
}

export function decodeValue(type: CqlType, bytes: Buffer | null): CqlValue {
  if (bytes === null) return null;
  switch (type.kind) {
    case 'text':
      return bytes.toString('utf8');
    case 'blob':
      return Buffer.from(bytes);
    case 'boolean':
      return bytes[0] !== 0;
    case 'int':
      return bytes.readInt32BE(0);
    case 'double':
      return bytes.readDoubleBE(0);
    case 'bigint':
    case 'timestamp':
      return bytes.readBigInt64BE(0);
    case 'uuid': {
      const hex = bytes.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    case 'inet':
      return [...bytes].join('.');
    case 'list':
    case 'set': {
      const r = new FrameReader(bytes);
      return Array.from({ length: r.int() }, () => decodeValue(type.element, r.bytes()));
    }
    case 'map': {
      const r = new FrameReader(bytes);
      const out = new Map<CqlValue, CqlValue>();
      for (let n = r.int(); n > 0; n--)
        out.set(decodeValue(type.key, r.bytes()), decodeValue(type.value, r.bytes()));
      return out;
    }
  }
}

/** Consistency levels by their protocol code (section 3, [consistency]). */
export const consistencyNames: Record<number, string> = {
  0: 'ANY',
  1: 'ONE',
  2: 'TWO',
  3: 'THREE',
  4: 'QUORUM',
  5: 'ALL',
  6: 'LOCAL_QUORUM',
  7: 'EACH_QUORUM',
  8: 'SERIAL',
  9: 'LOCAL_SERIAL',
  10: 'LOCAL_ONE',
};
