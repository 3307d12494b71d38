// The MessageStore on Cassandra (cassandra-driver), shared by every node of a fleet. Messages live in
// partitions (conv, bucket) clustered by seq; the schema is created on open.
//
// Seq assignment: the message row IS the claim. A send places its message with one lightweight
// transaction, `INSERT INTO messages ... IF NOT EXISTS` at slot lastSeq+1 of the conversation's bucket
// partition. Paxos on that partition lets exactly one message win a slot; a loser is told the slot's
// occupant and tries the next. Slots are only ever claimed right after an occupied one, so seqs stay
// gap-free, and a message and its seq become durable in the same step: no counter can run ahead of the
// messages, and a node that dies mid-send leaves no hole. Chosen over an LWT counter row (a counter
// claimed, then a message written, leaves a hole when the writer dies in between) and over a Redis
// counter beside Cassandra (two systems to keep in step on failover) and range allocation (ranges
// held by dead nodes leave holes, which gap-free seqs forbid).
//
// Idempotency: a row per (conv, sender, cmid) holds `after`, a seq below any slot the message can take
// (the conversation's last seq as read BEFORE the idempotency row was read), written before the
// placement, and `seq`/`ts` written after it. A retry that finds `seq` answers at once; one that finds
// only `after` (an attempt still in flight, or one that died after placing) looks at the slots after
// `after` and adopts the message if it is there. Placement itself adopts an occupant with the same
// (sender, cmid), so two attempts of one key racing for slots end on one seq.
//
// Cost of a send with a fresh cmid, in client round trips: read the conversation (1), read the
// idempotency row (1), write `after` (1), the placement LWT (1, which inside Cassandra is four
// coordinator-replica round trips: prepare, read, propose, commit), then the idempotency seq, the
// conversation's last-seq hint and its membership version together (1): 5 round trips, one of them
// Paxos, seven statements. A node sends to one conversation one placement at a time, so its own sends
// never contend; sends from other nodes to the same conversation cost one extra LWT per slot they took
// first.
//
// Consistency levels: every read and write is QUORUM, and LWTs run their Paxos at SERIAL (their commit
// at QUORUM). QUORUM writes and QUORUM reads overlap in at least one replica, so a read after an
// acknowledged write sees it, wherever the read lands: a retry finds its idempotency row, a record read
// finds a membership change. SERIAL, not LOCAL_SERIAL: with LOCAL_SERIAL two data centres would run
// separate Paxos rounds and could both win the same slot. ONE would let a read miss an acknowledged
// write; ALL would make any one replica down an outage. The last-seq hint is a plain write with
// `USING TIMESTAMP seq`, so the highest seq wins whatever order the writes land in; it is only a place
// to start looking (every answer that needs the exact last seq reads the slots after it).
//
// Membership changes are compare-and-set on the conversation row (`IF mversion = ?`); cursors are
// compare-and-set per (conv, member). A send checks membership before it places its message, so a
// send racing a removal by less than a round trip may land just after the removed member's span.
// Appends and reads report the membership version (span bounds set, `membersVersionOf`) from a read of
// the members made after their seqs were placed, so a node that pushes by an older membership learns
// that it must read the record first (the fleet's stale-membership push race).

import cassandra from 'cassandra-driver';
import type { ConvId, Message, UserId } from '../protocol/frames.ts';
import { cassandraLimits } from './cassandra-limits.ts';
import { CassandraSchema } from './cassandra-schema.ts';
import { defaultStoreLimits } from './limits.ts';
import {
  type AppendRequest,
  type AppendResult,
  type ConversationKind,
  type ConversationRecord,
  type CreateRequest,
  type CreateResult,
  type CursorRequest,
  type CursorResult,
  type Cursors,
  type MembershipSpan,
  type MembersRequest,
  type MembersResult,
  type MessageStore,
  type ReadRequest,
  type ReadResult,
  StoreUnavailableError,
} from './message-store.ts';
import { isCurrentSpan, parseSpans } from './span-text.ts';

const { consistencies } = cassandra.types;

export type CassandraStoreOptions = {
  /** host or host:port of some nodes; the driver finds the rest. */
  contactPoints: string[];
  keyspace: string;
  localDataCenter?: string;
  /** CQL replication map used if the keyspace has to be created. */
  replication?: string;
  bucketMessages?: number;
  readMessagesMax?: number;
  /** Driver options that override the store's (tests: shorter timeouts). */
  client?: Partial<cassandra.ClientOptions>;
};

type Row = cassandra.types.Row;
type ConvRow = { kind: ConversationKind; members: Record<UserId, string>; mversion: number; hint: number };

const write = { prepare: true, consistency: consistencies.quorum };
const cas = { ...write, serialConsistency: consistencies.serial };
const loneSurrogate = /\p{Cs}/u;

export class CassandraStore implements MessageStore {
  readonly client: cassandra.Client;
  readonly statements: CassandraSchema;
  private readonly bucketMessages: number;
  private readonly readMessagesMax: number;
  private readonly options: CassandraStoreOptions;
  /** One send per conversation at a time from this node: its own sends never race for a slot. */
  private readonly sending = new Map<ConvId, Promise<unknown>>();

  constructor(options: CassandraStoreOptions) {
    this.options = options;
    this.bucketMessages = options.bucketMessages ?? cassandraLimits.bucketMessagesDefault;
    this.readMessagesMax = options.readMessagesMax ?? defaultStoreLimits.readMessagesMax;
    this.statements = new CassandraSchema(options.keyspace);
    const ports = options.contactPoints.map((p) => Number(p.split(':')[1] ?? cassandraLimits.portDefault));
    this.client = new cassandra.Client({
      contactPoints: options.contactPoints,
      localDataCenter: options.localDataCenter ?? cassandraLimits.localDataCenterDefault,
      protocolOptions: { port: ports[0] ?? cassandraLimits.portDefault },
      socketOptions: {
        readTimeout: cassandraLimits.readTimeoutMs,
        connectTimeout: cassandraLimits.connectTimeoutMs,
      },
      ...options.client,
    });
  }

  async open(): Promise<ConversationRecord[]> {
    await this.client.connect();
    for (const statement of this.statements.schema(
      this.options.replication ?? cassandraLimits.replicationDefault,
    ))
      await this.client.execute(statement, [], { consistency: consistencies.quorum });
    return this.conversations();
  }

  async conversations(ids?: readonly ConvId[]): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = [];
    const wanted = ids === undefined ? null : new Set(ids);
    // With ids this still scans the conversation rows (no per-id statement yet): correct, not cheap.
    const rows = await this.run(this.statements.allConversations, []);
    for (const row of rows)
      if (wanted === null || wanted.has(String(row.id)))
        out.push(await this.record(String(row.id), convRow(row), 'quorum'));
    return out;
  }

  append(request: AppendRequest): Promise<AppendResult> {
    const previous = this.sending.get(request.conv) ?? Promise.resolve();
    const next = previous.then(
      () => this.appendNow(request),
      () => this.appendNow(request),
    );
    const settled = next.catch(() => undefined);
    this.sending.set(request.conv, settled);
    void settled.then(() => {
      if (this.sending.get(request.conv) === settled) this.sending.delete(request.conv);
    });
    return next;
  }

  private async appendNow(request: AppendRequest): Promise<AppendResult> {
    const { conv, from, cmid } = request;
    const conversation = await this.conversation(conv);
    if (conversation === null) return { status: 'not_found' };
    // Read after the conversation (and so after its hint): any attempt that placed this key before
    // that hint was read had written its idempotency row before, and this read sees it.
    const key = (await this.run(this.statements.idempotency, [conv, from, cmid]))[0];
    if (key?.seq != null) {
      const membersVersion = await this.membersVersion(conv);
      return { status: 'ok', seq: num(key.seq), ts: num(key.ts), duplicate: true, membersVersion };
    }
    const after = key ? Math.min(num(key.after), conversation.hint) : conversation.hint;
    if (!isCurrentSpan(conversation.members[from])) {
      const found = key ? await this.findPlaced(conv, from, cmid, after) : null;
      if (found === null) return { status: 'forbidden' };
      return { status: 'ok', ...found, duplicate: true, membersVersion: await this.membersVersion(conv) };
    }
    if (!key) await this.run(this.statements.writeAfter, [after, conv, from, cmid]);
    const placed =
      (key ? await this.findPlaced(conv, from, cmid, after) : null) ?? (await this.place(request, after));
    const [membersVersion] = await Promise.all([
      this.membersVersion(conv),
      this.run(this.statements.writeSeq, [placed.seq, placed.ts, conv, from, cmid]),
      this.run(this.statements.writeHint, [placed.seq, placed.seq, conv]),
    ]);
    return { status: 'ok', seq: placed.seq, ts: placed.ts, duplicate: placed.duplicate, membersVersion };
  }

  /**
   * The conversation's membership version (`AppendResult.membersVersion`), read at QUORUM once the seqs
   * an answer names are placed. A membership change is acknowledged only after its compare-and-set
   * committed at QUORUM, so one acknowledged before a seq was placed is seen here: the version is never
   * older than the one in force when the seq was decided. It may be newer (a change landed since),
   * which only makes a node read the record before it pushes.
   */
  private async membersVersion(conv: ConvId): Promise<number> {
    const row = (await this.run(this.statements.members, [conv]))[0];
    const members = (row?.members ?? {}) as Record<UserId, string>;
    let version = 0;
    for (const text of Object.values(members)) version += spanBounds(text);
    return version;
  }

  /** Claims the first free slot after `after`, adopting the key's message if another attempt placed it. */
  private async place(request: AppendRequest, after: number) {
    const attempt = cassandra.types.Uuid.random().toString();
    const wellFormed = !loneSurrogate.test(request.body);
    const body = wellFormed ? request.body : JSON.stringify(request.body);
    let timeouts = 0;
    for (let seq = after + 1, walked = 0; walked < cassandraLimits.placementSlotsMax; ) {
      let result: cassandra.types.ResultSet;
      try {
        result = await this.client.execute(
          this.statements.place,
          [
            request.conv,
            this.bucket(seq),
            seq,
            request.from,
            request.cmid,
            body,
            !wellFormed,
            request.ts,
            attempt,
          ],
          cas,
        );
      } catch (error) {
        // A CAS write timeout leaves the outcome unknown: ask the same slot again; if it landed, the
        // occupant is this very attempt.
        if (isCasTimeout(error) && ++timeouts <= cassandraLimits.casTimeoutRetriesMax) continue;
        throw unavailable(error);
      }
      if (result.wasApplied()) return { seq, ts: request.ts, duplicate: false };
      const occupant = result.first();
      if (occupant.sender === request.from && occupant.cmid === request.cmid)
        return { seq, ts: num(occupant.ts), duplicate: occupant.attempt !== attempt };
      seq++;
      walked++;
    }
    throw new StoreUnavailableError(
      `conversation ${request.conv}: no free slot within ${cassandraLimits.placementSlotsMax} of ${after}`,
    );
  }

  /** The key's message among the committed slots after `after`, if it is there. */
  private async findPlaced(conv: ConvId, from: UserId, cmid: string, after: number) {
    for (let bucket = this.bucket(after + 1); ; bucket++) {
      const rows = await this.run(this.statements.slotsAfter, [conv, bucket, after]);
      for (const row of rows)
        if (row.sender === from && row.cmid === cmid)
          return { seq: num(row.seq), ts: num(row.ts), duplicate: true };
      if (rows.length === 0 || num(rows[rows.length - 1]!.seq) < this.bucketEnd(bucket)) return null;
    }
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const conversation = await this.conversation(request.conv);
    if (conversation === null) return { status: 'not_found' };
    const lastSeq = await this.lastSeq(request.conv, conversation.hint, 'quorum');
    // Read beside the pages, after lastSeq: every seq the answer can hold was placed before it.
    const membersVersion = this.membersVersion(request.conv);
    membersVersion.catch(() => undefined); // awaited below; a page that fails first must not orphan it
    const want = Math.min(request.limit, this.readMessagesMax, Math.max(0, lastSeq - request.after));
    const messages: Message[] = [];
    for (let after = Math.max(0, request.after); messages.length < want; ) {
      const rows = await this.run(this.statements.page, [
        request.conv,
        this.bucket(after + 1),
        after,
        want - messages.length,
      ]);
      if (rows.length === 0) break;
      for (const row of rows) messages.push(toMessage(request.conv, row));
      after = num(rows[rows.length - 1]!.seq);
    }
    return { status: 'ok', messages, lastSeq, membersVersion: await membersVersion };
  }

  async createConversation(request: CreateRequest): Promise<CreateResult> {
    const members = [...new Set(request.members)];
    const spans = Object.fromEntries(members.map((u) => [u, '1:-']));
    const result = await this.run(this.statements.create, [request.id, request.kind, spans], cas);
    if (result.length === 1 && result[0]!['[applied]'] === true)
      return {
        status: 'created',
        conversation: await this.record(
          request.id,
          { kind: request.kind, members: spans, mversion: 0, hint: 0 },
          'quorum',
        ),
      };
    const existing = convRow(result[0]!);
    const current = Object.keys(existing.members).filter((u) => isCurrentSpan(existing.members[u]));
    const same =
      existing.kind === request.kind &&
      current.length === members.length &&
      members.every((u) => current.includes(u));
    return {
      status: same ? 'exists' : 'conflict',
      conversation: await this.record(request.id, existing, 'quorum'),
    };
  }

  async changeMembers(request: MembersRequest): Promise<MembersResult> {
    for (let round = 0; round < cassandraLimits.casRoundsMax; round++) {
      const conversation = await this.conversation(request.conv);
      if (conversation === null) return { status: 'not_found' };
      if (conversation.kind === 'direct' && request.add.length + request.remove.length > 0)
        return { status: 'conflict' };
      if (request.add.length + request.remove.length === 0)
        return { status: 'ok', conversation: await this.record(request.conv, conversation, 'quorum') };
      // SERIAL: a message placed but not yet committed everywhere counts, so a removed member's span
      // ends after every message it was sent while a member.
      const last = await this.lastSeq(request.conv, conversation.hint, 'serial');
      const members = changedSpans(conversation.members, request, last);
      const result = await this.run(
        this.statements.changeMembers,
        [members, conversation.mversion + 1, request.conv, conversation.mversion],
        cas,
      );
      if (result[0]!['[applied]'] === true)
        return {
          status: 'ok',
          conversation: await this.record(request.conv, { ...conversation, members, hint: last }, 'quorum'),
        };
    }
    throw new StoreUnavailableError(
      `conversation ${request.conv}: membership change lost ${cassandraLimits.casRoundsMax} compare-and-set rounds`,
    );
  }

  async advanceCursor(request: CursorRequest): Promise<CursorResult> {
    const { conv, user, kind } = request;
    for (let round = 0; round < cassandraLimits.casRoundsMax; round++) {
      const conversation = await this.conversation(conv);
      if (conversation === null) return { status: 'not_found' };
      const spans = conversation.members[user];
      if (!isCurrentSpan(spans)) return { status: 'forbidden' };
      const last =
        request.seq > conversation.hint
          ? await this.lastSeq(conv, conversation.hint, 'quorum')
          : conversation.hint;
      const row = (await this.run(this.statements.cursor, [conv, user]))[0];
      const floor = cursorFloor(spans!);
      const stored = row ? num(kind === 'read' ? row.read_seq : row.delivered_seq) : 0;
      const old = Math.max(stored, floor);
      const target = Math.min(request.seq, last);
      if (target <= old) return { status: 'ok', seq: old, moved: false };
      const result = row
        ? await this.run(
            kind === 'read' ? this.statements.moveRead : this.statements.moveDelivered,
            [target, conv, user, stored],
            cas,
          )
        : await this.run(
            this.statements.newCursor,
            [conv, user, kind === 'delivered' ? target : floor, kind === 'read' ? target : floor],
            cas,
          );
      if (result[0]!['[applied]'] === true) return { status: 'ok', seq: target, moved: true };
    }
    throw new StoreUnavailableError(
      `conversation ${conv}: cursor of ${user} lost ${cassandraLimits.casRoundsMax} compare-and-set rounds`,
    );
  }

  async ping(): Promise<void> {
    await this.run(this.statements.ping, []);
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }

  private async conversation(conv: ConvId): Promise<ConvRow | null> {
    const row = (await this.run(this.statements.conversation, [conv]))[0];
    return row ? convRow(row) : null;
  }

  /** The highest placed seq: the hint, then any slots placed after it (SERIAL also finishes in-flight Paxos). */
  private async lastSeq(conv: ConvId, hint: number, level: 'quorum' | 'serial'): Promise<number> {
    let last = hint;
    for (let bucket = this.bucket(hint + 1); ; bucket++) {
      const rows = await this.run(this.statements.lastInBucket, [conv, bucket, last], {
        prepare: true,
        consistency: consistencies[level],
      });
      if (rows.length === 0) return last;
      last = num(rows[0]!.seq);
      if (last < this.bucketEnd(bucket)) return last;
    }
  }

  private async record(
    id: ConvId,
    conversation: ConvRow,
    level: 'quorum' | 'serial',
  ): Promise<ConversationRecord> {
    const [lastSeq, cursorRows] = await Promise.all([
      this.lastSeq(id, conversation.hint, level),
      this.run(this.statements.cursors, [id]),
    ]);
    const members: Record<UserId, MembershipSpan[]> = Object.create(null);
    const cursors: Record<UserId, Cursors> = Object.create(null);
    for (const [user, text] of Object.entries(conversation.members)) {
      members[user] = parseSpans(text);
      const floor = cursorFloor(text);
      cursors[user] = { delivered: floor, read: floor };
    }
    for (const row of cursorRows) {
      const c = cursors[String(row.member)];
      if (c === undefined) continue;
      c.delivered = Math.max(c.delivered, num(row.delivered_seq));
      c.read = Math.max(c.read, num(row.read_seq));
    }
    return { id, kind: conversation.kind, lastSeq, members, cursors };
  }

  private async run(
    query: string,
    params: unknown[],
    options: cassandra.QueryOptions = write,
  ): Promise<Row[]> {
    try {
      return (await this.client.execute(query, params, options)).rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  private bucket(seq: number): number {
    return Math.floor((seq - 1) / this.bucketMessages);
  }

  private bucketEnd(bucket: number): number {
    return (bucket + 1) * this.bucketMessages;
  }
}

function convRow(row: Row): ConvRow {
  return {
    kind: row.kind as ConversationKind,
    members: (row.members ?? {}) as Record<UserId, string>,
    mversion: num(row.mversion),
    hint: num(row.last_seq),
  };
}

/** Long, number or null (a hint never written) as a number. */
function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : (value as cassandra.types.Long).toNumber();
}

function toMessage(conv: ConvId, row: Row): Message {
  const body = String(row.body);
  return {
    conv,
    seq: num(row.seq),
    from: String(row.sender),
    cmid: String(row.cmid),
    body: row.body_json === true ? (JSON.parse(body) as string) : body,
    ts: num(row.ts),
  };
}

/** Bounds set in a member's spans text ("1:4,7:-"): a join sets one, a removal a second (membersVersionOf). */
function spanBounds(text: string): number {
  let bounds = 0;
  for (const span of text.split(',')) bounds += span.endsWith(':-') ? 1 : 2;
  return bounds;
}

/** A member holds nothing before its latest join, so its cursors are at least the seq before it. */
function cursorFloor(spans: string): number {
  const latest = spans.slice(spans.lastIndexOf(',') + 1);
  return Number(latest.split(':')[0]) - 1;
}

function changedSpans(
  members: Record<UserId, string>,
  request: MembersRequest,
  last: number,
): Record<UserId, string> {
  const out = { ...members };
  for (const user of request.remove) {
    const spans = out[user];
    if (isCurrentSpan(spans)) out[user] = `${spans!.slice(0, -1)}${last}`;
  }
  for (const user of request.add) {
    const spans = out[user];
    if (isCurrentSpan(spans)) continue;
    out[user] = spans === undefined ? `${last + 1}:-` : `${spans},${last + 1}:-`;
  }
  return out;
}

function isCasTimeout(error: unknown): boolean {
  const e = error as { code?: number; writeType?: string };
  return e.code === 0x1100 && e.writeType === 'CAS';
}

function unavailable(error: unknown): Error {
  if (error instanceof StoreUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`cassandra: ${message}`);
}
