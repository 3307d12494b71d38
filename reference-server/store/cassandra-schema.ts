// The Cassandra store's tables and every statement it runs, in one place, so the schema and the
// statements that rely on it are read together (and the CQL test server's model runs exactly these).
//
// - conversations: one row per conversation: kind, members (user -> spans "from:to,...", '-' while
//   open), mversion (compare-and-set version of membership) and last_seq (a hint: the highest seq known
//   placed, written with USING TIMESTAMP seq so the highest wins; never written by the LWTs).
// - messages: partition (conv, bucket), clustered by seq; `attempt` tells a send its own placement
//   from another's when a timed-out LWT is asked again.
// - idempotency: partition (conv, sender, cmid): `after` (a seq below the message's), then seq and ts.
// - cursors: partition conv, a row per member that ever moved a cursor (the floor comes from its spans).

export class CassandraSchema {
  readonly conversation: string;
  readonly members: string;
  readonly allConversations: string;
  readonly create: string;
  readonly changeMembers: string;
  readonly writeHint: string;
  readonly idempotency: string;
  readonly writeAfter: string;
  readonly writeSeq: string;
  readonly place: string;
  readonly slotsAfter: string;
  readonly lastInBucket: string;
  readonly page: string;
  readonly cursor: string;
  readonly cursors: string;
  readonly newCursor: string;
  readonly moveDelivered: string;
  readonly moveRead: string;
  readonly ping = "SELECT release_version FROM system.local WHERE key = 'local'";

  constructor(readonly keyspace: string) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(keyspace))
      throw new Error(
        `keyspace '${keyspace}' is not a valid Cassandra name (a letter, then up to 47 of [A-Za-z0-9_])`,
      );
    const t = (table: string) => `${keyspace}.${table}`;
    this.conversation = `SELECT kind, members, mversion, last_seq FROM ${t('conversations')} WHERE id = ?`;
    this.members = `SELECT members FROM ${t('conversations')} WHERE id = ?`;
    this.allConversations = `SELECT id, kind, members, mversion, last_seq FROM ${t('conversations')}`;
    this.create = `INSERT INTO ${t('conversations')} (id, kind, members, mversion) VALUES (?, ?, ?, 0) IF NOT EXISTS`;
    this.changeMembers = `UPDATE ${t('conversations')} SET members = ?, mversion = ? WHERE id = ? IF mversion = ?`;
    this.writeHint = `UPDATE ${t('conversations')} USING TIMESTAMP ? SET last_seq = ? WHERE id = ?`;
    this.idempotency = `SELECT after, seq, ts FROM ${t('idempotency')} WHERE conv = ? AND sender = ? AND cmid = ?`;
    this.writeAfter = `UPDATE ${t('idempotency')} SET after = ? WHERE conv = ? AND sender = ? AND cmid = ?`;
    this.writeSeq = `UPDATE ${t('idempotency')} SET seq = ?, ts = ? WHERE conv = ? AND sender = ? AND cmid = ?`;
    this.place = `INSERT INTO ${t('messages')} (conv, bucket, seq, sender, cmid, body, body_json, ts, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`;
    this.slotsAfter = `SELECT seq, sender, cmid, ts FROM ${t('messages')} WHERE conv = ? AND bucket = ? AND seq > ?`;
    this.lastInBucket = `SELECT seq FROM ${t('messages')} WHERE conv = ? AND bucket = ? AND seq > ? ORDER BY seq DESC LIMIT 1`;
    this.page = `SELECT seq, sender, cmid, body, body_json, ts FROM ${t('messages')} WHERE conv = ? AND bucket = ? AND seq > ? LIMIT ?`;
    this.cursor = `SELECT delivered_seq, read_seq FROM ${t('cursors')} WHERE conv = ? AND member = ?`;
    this.cursors = `SELECT member, delivered_seq, read_seq FROM ${t('cursors')} WHERE conv = ?`;
    this.newCursor = `INSERT INTO ${t('cursors')} (conv, member, delivered_seq, read_seq) VALUES (?, ?, ?, ?) IF NOT EXISTS`;
    this.moveDelivered = `UPDATE ${t('cursors')} SET delivered_seq = ? WHERE conv = ? AND member = ? IF delivered_seq = ?`;
    this.moveRead = `UPDATE ${t('cursors')} SET read_seq = ? WHERE conv = ? AND member = ? IF read_seq = ?`;
  }

  /** CREATE statements, idempotent, run on every open. */
  schema(replication: string): string[] {
    const k = this.keyspace;
    return [
      `CREATE KEYSPACE IF NOT EXISTS ${k} WITH replication = ${replication}`,
      `CREATE TABLE IF NOT EXISTS ${k}.conversations (id text PRIMARY KEY, kind text, members map<text, text>, mversion bigint, last_seq bigint)`,
      `CREATE TABLE IF NOT EXISTS ${k}.messages (conv text, bucket bigint, seq bigint, sender text, cmid text, body text, body_json boolean, ts bigint, attempt text, PRIMARY KEY ((conv, bucket), seq)) WITH CLUSTERING ORDER BY (seq ASC)`,
      `CREATE TABLE IF NOT EXISTS ${k}.idempotency (conv text, sender text, cmid text, after bigint, seq bigint, ts bigint, PRIMARY KEY ((conv, sender, cmid)))`,
      `CREATE TABLE IF NOT EXISTS ${k}.cursors (conv text, member text, delivered_seq bigint, read_seq bigint, PRIMARY KEY (conv, member))`,
    ];
  }
}
