// The scenario file format as a zod schema: every field, its bounds, its default and what it means.
// validateScenario parses with it; scenario.schema.json is generated from it (npm run
// scenarios:schema) so editors complete and check scenario files. The defaults are the `steady`
// scenario's values: a scenario file writes only what differs from them.

import { z } from 'zod';
import { defaultLimits, type NodeLimits } from '../reference-server/core/limits.ts';
import { checkProperties } from './check-properties.ts';
import { closestName } from './closest-name.ts';
import { type ThresholdMetric, thresholdMetrics } from './thresholds.ts';

/**
 * The CRC-valid records of `landing: 'foreign'`, each one a correct writer never writes and a recovery
 * must refuse (disk-misdirected-write.ts's foreignRecord builds them; the check each one needs is named).
 */
export const foreignRecordForms = [
  /** members: a number among `add` (decode: add is a list of ids). The default. */
  'members-add-number',
  /** members: a number after a member among `remove` (decode: remove is a list of ids, every entry). */
  'members-remove-number',
  /** members: adds a current member, removes none (replay: a logged change changes something). */
  'members-unchanged',
  /** create of a new group of kind 'channel' (decode: kind is direct or group). */
  'create-kind',
  /** create of a new group listing a number after a member (decode: members is a list of ids). */
  'create-member-number',
  /** create whose id is a number (decode: the id is a string). */
  'create-id-number',
  /** create of the conversation again, as it is (replay: a conversation is created once). */
  'create-twice',
  /** cursor of kind 'seen' to seq 0 (decode: kind is delivered or read). */
  'cursor-kind',
  /** cursor to the value it already has (replay: a logged cursor move moves the cursor). */
  'cursor-repeat',
  /** cursor one past lastSeq, from below it (replay: it moves to exactly its seq, unclamped). */
  'cursor-past-end',
  /** the message it lands on with a number for its body (decode: body is a string). */
  'append-body',
  /** the message it lands on with a number for its cmid (decode: cmid is a string). */
  'append-cmid',
  /** the message it lands on with ts 1e999, Infinity once parsed (decode: ts is a finite number). */
  'append-ts',
  /** the message it lands on with the next seq (replay: the seq is the one the append takes). */
  'append-seq-skip',
  /** the message before it again, at its seq (replay: a logged append is no duplicate). */
  'append-repeat',
] as const;

/**
 * A closed object: a key it does not know is a problem, reported with the nearest known key. The
 * message carries one line per unknown key; formatIssues prefixes each with its path.
 */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => {
          const near = closestName(key, known);
          return `${key}\u0000is not a known field${near ? `; did you mean "${near}"?` : `; known: ${known.join(', ')}`}`;
        })
        .join('\n');
    },
  });
}

const ms = (description: string, fallback: number) =>
  z.number().int().min(0).default(fallback).describe(`${description} (ms; default ${fallback})`);
const share = (description: string, fallback: number) =>
  z.number().min(0).max(1).default(fallback).describe(`${description} (0..1; default ${fallback})`);
const count = (description: string, fallback: number) =>
  z.number().int().min(0).default(fallback).describe(`${description} (default ${fallback})`);

// ---- faults -------------------------------------------------------------------------------------

const faultStart = {
  atMs: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('when the fault starts, in ms after the faults phase begins (default 0)'),
};
const healsAfter = {
  durationMs: z
    .number()
    .int()
    .positive()
    .default(5000)
    .describe('how long until the heal, in ms; cut short at the end of the faults phase (default 5000)'),
};
/** Damage a backup repairs at the heal (the operator's job); without a duration it stays. */
const restoredAfter = (scope: string) => ({
  durationMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      `${scope}when a backup of the damaged sectors is restored (the operator's repair) and a store that refused its log restarts, in ms; without it the damage stays`,
    ),
});
const clientShare = (fallback: number) => ({
  fraction: share('share of clients touched, each drawn from the fault’s own seeded stream', fallback),
});
const nodeIndex = {
  node: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('index of the node touched, below topology.nodes (default 0)'),
};

/** bandwidth and slow-consumer: the same fault (rate-limited-link.ts) at different default rates. */
function rateLimitedLink<T extends string>(type: T, bytesPerSec: number, rate: string, about: string) {
  return strict({
    type: z.literal(type),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    ...clientShare(0.1),
    bytesPerSec: z
      .number()
      .positive()
      .default(bytesPerSec)
      .describe(`${rate} (bytes/s; default ${bytesPerSec})`),
  }).describe(about);
}

const faultVariants = [
  strict({
    type: z.literal('partition'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    target: z
      .enum(['clients', 'node', 'store', 'bus'])
      .default('clients')
      .describe(
        "'clients': a share of clients cut from every node; 'node': one node cut from its clients; 'store': one node cut from the store (and from the bus when the bus is Redis beside it); 'bus': one node cut from the bus alone, its store still reachable (a Cassandra store with a Redis bus; needs topology.busLossOnDisconnect) (default 'clients')",
      ),
    // Which of these applies depends on the target, so neither is filled in for the other.
    fraction: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("target 'clients': share of clients cut (0..1; default 0.1)"),
    node: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("target 'node', 'store' or 'bus': index of the node cut (default 0)"),
  }).describe('A network partition: nothing crosses the cut while it lasts; connections across it go dead.'),
  strict({
    type: z.literal('latency'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    ...clientShare(0.1),
    latencyMs: ms('extra one-way delay on each touched link', 200),
    jitterMs: ms("each frame's extra delay varies uniformly by ±jitterMs, as Toxiproxy's jitter", 0),
  }).describe("Toxiproxy's latency toxic: extra delay plus jitter on the links of some clients."),
  rateLimitedLink(
    'bandwidth',
    65_536,
    'server-to-client rate of each touched link',
    "Toxiproxy's bandwidth toxic: the server-to-client direction of some links limited to a rate.",
  ),
  rateLimitedLink(
    'slow-consumer',
    2048,
    'how fast a touched client reads',
    'Clients that read far slower than the node writes: the node must close them with 4509.',
  ),
  strict({
    type: z.literal('timeout'),
    description: z.string().optional(),
    ...faultStart,
    ...clientShare(0.1),
  }).describe(
    "Toxiproxy's timeout toxic, once: data stops on some links without a close; both ends learn by silence.",
  ),
  strict({
    type: z.literal('reset_peer'),
    description: z.string().optional(),
    ...faultStart,
    ...clientShare(0.1),
  }).describe("Toxiproxy's reset_peer toxic, once: some clients' connections are reset; they reconnect."),
  strict({
    type: z.literal('reconnect-storm'),
    description: z.string().optional(),
    ...faultStart,
    ...clientShare(0.5),
  }).describe('A large share of clients dropped at the same instant, all coming back at once.'),
  strict({
    type: z.literal('node-crash'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    ...nodeIndex,
    storeRefusedAfterStartMs: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        "from the restarted node's start (its records read), its store refuses at once every request the node sends for this long (a Redis that does not take the restarted process's connection yet): a fleet node's first catch-up read fails, and only its own retry brings it up to date and releases the welcomes it holds; recorded as a store-outage on that node (simulator only)",
      ),
  }).describe('The node process dies (unsynced writes of an embedded store lost) and restarts at the heal.'),
  strict({
    type: z.literal('node-pause'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    ...nodeIndex,
  }).describe(
    'The node handles nothing (SIGSTOP, a long GC) until the heal, then works through its backlog.',
  ),
  strict({
    type: z.literal('store-outage'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
  }).describe('Every store operation fails (unavailable) until the heal.'),
  strict({
    type: z.literal('store-flaky'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    ...nodeIndex,
    fraction: share("share of the node's store requests lost on its link to the store", 0.3),
    repliesFraction: share(
      'share of the replies to requests that reached the store lost on the way back, after the store carried the operation out (a write done, the node answered by its timeout)',
      0,
    ),
  }).describe(
    'A flaky link between one node and the shared store: that share of its store requests is lost (the node times out: unavailable), and `repliesFraction` of the replies to the rest, the operation carried out; the others answered as usual; its bus stays up. Needs a shared store (topology.store "shared").',
  ),
  strict({
    type: z.literal('clock-offset'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    ...nodeIndex,
    offsetMs: z
      .number()
      .int()
      .default(30_000)
      .describe("how far the node's clock runs ahead (negative: behind), in ms (default 30000)"),
  }).describe("One node's clock runs ahead or behind; nothing about order may depend on it."),
  strict({
    type: z.literal('redis-latency'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    node: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("index of the node whose link to Redis is slowed (default: every node's: Redis itself slow)"),
    latencyMs: ms('extra one-way delay on each touched node-Redis link', 100),
    jitterMs: ms("each message's extra delay varies uniformly by ±jitterMs, as Toxiproxy's jitter", 0),
  }).describe(
    'Toxiproxy\'s latency toxic between nodes and Redis: store requests, answers and bus messages of the touched nodes arrive later, in order. Needs a shared store (topology.store "shared").',
  ),
  strict({
    type: z.literal('rolling-restart'),
    description: z.string().optional(),
    ...faultStart,
    durationMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe(
        'the longest the roll may take, in ms; cut short at the end of the faults phase, where a node still stopped starts at once and nodes not reached yet are left alone (default 60000)',
      ),
    restartDelayMs: ms('how long each node stays stopped before it starts again', 500),
  }).describe(
    "A rolling restart, node by node in index order: drained as protocol.md's drain says (`drain`, then 1012), stopped cleanly, started again on the same store; the next node only once this one serves again.",
  ),
  // Faults of the simulated disk under the real log store (topology.engine "log"); simulator only.
  strict({
    type: z.literal('disk-torn-write'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    sectors: z
      .enum(['prefix', 'any', 'hole'])
      .default('prefix')
      .describe(
        "which sectors of the torn write survive: 'prefix' (its first ones, cut at a sector boundary), 'any' (written back in no order, so a lost sector may lie before a kept one) or 'hole' (every sector but the first: the write's later whole records lie intact after the hole, the case recovery must tell from damage); default 'prefix'",
      ),
    writeRecordsMin: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe(
        'the fewest whole log records the torn write must hold: writes of fewer go by untouched, so the torn one is a group-commit batch and, with sectors "hole" or "any", whole records may lie after the hole (default 1: the first write that spans a sector boundary)',
      ),
    tornAt: z
      .enum(['sector', 'frame-length'])
      .default('sector')
      .describe(
        "where the tear falls: 'sector' (any sector boundary of the write) or 'frame-length' (with sectors 'prefix': the crash waits for a write with a sector boundary 1-3 bytes into one of its frames and tears it there, so the torn tail holds only part of that frame's length field, the shortest tail recovery must cut; the machine restarts 500 ms after that crash, the heal only disarms the fault; a run where no such write came before the heal cannot pass liveness: it is unknown); default 'sector'",
      ),
  }).describe(
    "The log's machine crashes right after a write, before its fsync, keeping part of it torn at sector boundaries; it restarts (recovery) at the heal.",
  ),
  strict({
    type: z.literal('disk-fsync-error'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
  }).describe(
    'fsync fails with EIO until the heal (the failed pages are dropped); the store stops acking, and is restarted at the heal if it failed.',
  ),
  strict({
    type: z.literal('disk-open-error'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    code: z
      .enum(['EMFILE', 'ENFILE', 'EIO'])
      .default('EMFILE')
      .describe(
        "the error every open for reading fails with (default 'EMFILE': the process's descriptor table is full)",
      ),
  }).describe(
    'Opens for reading fail (EMFILE) until the heal, so history reads past the tail cache are refused; just before the heal and right after it the fault reads the oldest message of the busiest conversation over HTTP, and after the heal no `unavailable` is owed (a failed store is restarted at the heal).',
  ),
  strict({
    type: z.literal('disk-full'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
  }).describe(
    'Writes that grow a file fail with ENOSPC until the heal; clients get unavailable; a failed store is restarted at the heal.',
  ),
  strict({
    type: z.literal('disk-bitflip'),
    description: z.string().optional(),
    ...faultStart,
    file: z
      .enum(['checkpoint', 'segment'])
      .default('checkpoint')
      .describe("which synced file a bit flips in (default 'checkpoint')"),
    segment: z
      .enum(['either', 'last', 'sealed'])
      .default('either')
      .describe(
        "file 'segment' only: the newest bytes of the last segment (where recovery must tell damage from a torn tail by the intact records after it), the last record of the sealed one before it, or either as the seed decides (default 'either')",
      ),
    ...restoredAfter('segment only: '),
  }).describe(
    'One bit flips in a synced sector; CRCs must catch it: a checkpoint is set aside (full replay), a record is never served.',
  ),
  strict({
    type: z.literal('disk-misdirected-write'),
    description: z.string().optional(),
    ...faultStart,
    ...restoredAfter(''),
    landing: z
      .enum(['same-conversation', 'same-seq', 'any', 'foreign'])
      .default('same-conversation')
      .describe(
        "whose record lands: a later one of the same conversation (only its seq tells it from the expected one), one of another conversation with the same seq (only its conversation does), any later one, or 'foreign': a frame of the same length that passes its CRC but holds a record a correct writer never writes (`forms`), over the last record of a group, and the machine crashes and restarts on it: recovery must refuse the log (default 'same-conversation')",
      ),
    forms: z
      .array(z.enum(foreignRecordForms))
      .min(1)
      .optional()
      .describe(
        "landing 'foreign' only: which records land, one after another, each with a crash and restart of its own; the backup goes back as soon as a recovery has refused (the heal waits for the last): members-add-number (a number in `add`, the default), members-remove-number, members-unchanged (a change that changes nothing), create-kind ('channel'), create-member-number, create-id-number, create-twice (the conversation created again), cursor-kind ('seen'), cursor-repeat (a cursor move to where it stands), cursor-past-end (one past lastSeq), append-body (a number), append-cmid (a number), append-ts (1e999), append-seq-skip (the next seq), append-repeat (the message before again)",
      ),
  }).describe(
    "A segment record's bytes land over an older synced record (a misdirected write): a frame that passes its CRC at the wrong place. It must never be served as the record the index expects there; with one copy of the log the overwritten record is lost until a backup restores it (durationMs), so it is no swarm pick.",
  ),
  strict({
    type: z.literal('disk-lost-flush'),
    description: z.string().optional(),
    ...faultStart,
    ...restoredAfter(''),
    after: z
      .enum(['crash', 'clean-stop', 'provisioning'])
      .default('crash')
      .describe(
        "what the power-off follows: 'crash' (the machine dies, and the checkpoint's segment comes back shorter than the position the checkpoint covers), 'clean-stop' (the embedded node drains and exits cleanly, its store flushed and closed, then the power goes and the sector holding the log's last byte is lost: a store that checkpointed at its close, as it promises, must refuse that log) or 'provisioning' (as 'clean-stop', at the operator's first restart of a new server, once the setup's conversations are created and before any client connects, so the log is young: its checkpoint still points into segment 1, and with lose 'file' no segment is left at all; the backup is restored at once if the store refused; atMs and durationMs are ignored, and it takes no run time) (default 'crash')",
      ),
    lose: z
      .enum(['tail', 'file'])
      .default('tail')
      .describe(
        "what the power-off takes: 'tail' (the segment's synced bytes from the sector named by 'after' on) or 'file' (that whole segment file, its directory entry never made durable, if it was created since the machine came up, else after a crash its tail as with 'tail': recovery meets a checkpoint that covers a segment that is not there and must refuse the log) (default 'tail')",
      ),
  }).describe(
    "The disk acknowledged a flush it never made: the log's machine powers off (after a crash or a clean stop) and restarts at once with acknowledged records gone from a segment the checkpoint covers. Recovery must refuse that log, not start on it; with one copy of the log the records are lost until a backup restores them (durationMs), so it is no swarm pick.",
  ),
  strict({
    type: z.literal('disk-slow'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
    slowFactor: z
      .number()
      .min(1)
      .default(25)
      .describe('how many times slower every disk operation, fsync included, gets (default 25)'),
  }).describe('Every disk operation takes slowFactor times longer until the heal.'),
  strict({
    type: z.literal('crash-during-recovery'),
    description: z.string().optional(),
    ...faultStart,
    ...healsAfter,
  }).describe(
    "The log's machine crashes with a torn write, restarts, and crashes again a few disk operations into its recovery; it restarts once more at the heal.",
  ),
] as const;

export const faultTypes = faultVariants.map((variant) => variant.shape.type.value);

/** Workload settings a swarm seed may draw (`swarm.draw`; simulator/swarm.ts `swarmWorkload`). */
export const swarmKnobs = [
  'clients.syncLimit',
  'workload.sendAfterMembershipChange',
  'workload.httpReadsPerMin',
] as const;

export const faultSchema = z.discriminatedUnion('type', [...faultVariants]);

// ---- the scenario -------------------------------------------------------------------------------

const limitKeys = Object.keys(defaultLimits) as (keyof NodeLimits)[];
// Left unset, a limit is the node's own default (not filled in: a live run passes only the limits a
// scenario sets to the server under test, which may not know the reference server's other flags).
const limitsShape = Object.fromEntries(
  limitKeys.map((key) => [
    key,
    z
      .number()
      .int()
      .positive()
      .optional()
      .describe(`the node's ${key} (default: the node's own, ${defaultLimits[key]} on the reference server)`),
  ]),
) as Record<keyof NodeLimits, z.ZodOptional<z.ZodNumber>>;

const thresholdList = (metric: ThresholdMetric, fallback: string[]) =>
  z
    .array(z.string())
    .default(fallback)
    .describe(
      `${thresholdMetrics[metric].description}, in ${thresholdMetrics[metric].unit}; k6 expressions, all must hold (default ${JSON.stringify(fallback)}; [] for none)`,
    );

export const scenarioSchema = strict({
  $schema: z.string().optional().describe('path or URL of this JSON Schema, for editors'),
  extends: z
    .string()
    .optional()
    .describe(
      'a scenario this one starts from, by name (steady) or path relative to this file; objects merge key by key, lists and values replace, null removes',
    ),
  name: z
    .string()
    .regex(/^[a-z0-9-]+$/, { error: 'must be kebab-case (a-z, 0-9, -)' })
    .optional()
    .describe("kebab-case; default: the file's name"),
  description: z.string().default('').describe('what the scenario shows'),
  topology: strict({
    nodes: z.number().int().positive().default(1).describe('server nodes (default 1)'),
    store: z
      .enum(['embedded', 'shared'])
      .optional()
      .describe(
        "'embedded': the store lives in the node process (one node only; a crash loses unsynced writes); 'shared': one store for every node (default: embedded for one node, shared for more)",
      ),
    busLossOnDisconnect: z
      .boolean()
      .default(false)
      .describe(
        'the bus is Redis pub/sub beside the shared store: a store outage, or a node cut from the store, cuts the bus too, and a node loses what was published while it was away (it must catch up from the store); default false',
      ),
    engine: z
      .enum(['log', 'model', 'memory'])
      .default('log')
      .describe(
        "simulator only: 'log': the real log store on a simulated disk (default; disk faults need it); 'model': a model of a store, for scale runs where the real log costs too much; 'memory': the real memory store in the node's process, as `serve --store memory` runs it (one node; it keeps nothing across a crash or restart)",
      ),
  })
    .prefault({})
    .describe('nodes and where the store lives'),
  network: strict({
    latencyMs: z.number().min(0).default(5).describe('one-way client-node latency (ms; default 5)'),
    jitterMs: z
      .number()
      .min(0)
      .default(5)
      .describe('extra one-way delay drawn from 0..jitterMs (ms; default 5)'),
    storeLatencyMs: z.number().min(0).default(0.2).describe('node-store one-way latency (ms; default 0.2)'),
    busLatencyMs: z.number().min(0).default(1).describe('node-to-node bus latency (ms; default 1)'),
    fsyncMs: z.number().min(0).default(2).describe('time to make a write durable (ms; default 2)'),
    verifyMs: z
      .number()
      .min(0)
      .default(0)
      .describe(
        "how long the nodes' token check takes to answer a hello (ms; default 0: at once); live, it is asynchronous, so frames and closes can come between a hello and its answer",
      ),
  })
    .prefault({})
    .describe('the simulated links and store timing'),
  clients: strict({
    count: z
      .number()
      .int()
      .positive()
      .default(600)
      .describe('virtual clients (devices) in all; --clients overrides (default 600)'),
    devicesPerUser: z.number().int().positive().default(2).describe('devices per user (default 2)'),
    adversaries: count('adversarial clients that attempt what the protocol forbids', 0),
    jitter: z.boolean().default(true).describe('full jitter on reconnect backoff (default true)'),
    reconnectCapMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe(
        'the longest reconnect backoff (ms; default 30000): each failed dial doubles the bound from 500 ms up to this, and only a welcome resets it',
      ),
    deliveredCursors: z.boolean().default(true).describe('clients send `delivered` cursors (default true)'),
    readOnlyCursorsFraction: share(
      'share of users whose apps send only `read` cursors, never `delivered` (delivery receipts turned off, or an app that keeps read markers only, as Matrix clients do): their delivered cursor stays where it started while read moves on',
      0,
    ),
    syncLimit: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(500)
      .describe(
        '`limit` of each sync (default 500, the protocol maximum): a small page makes reads span pages, so `more` is exercised',
      ),
    pinnedFraction: share(
      "share of users whose devices dial only their home node (an app given one server's address): while that node is down they stay offline instead of failing over",
      0,
    ),
    textFraction: share(
      "simulator only: share of devices whose frames reach the node as WebSocket text, encoded by the client's wire and parsed and validated by the node as ws-transport feeds them; the rest reach it as decoded values (validated alike, JSON skipped). Live, every frame is text",
      0.5,
    ),
    pipelineFraction: share(
      "simulator only: share of devices that, reconnecting, name none of the conversations they hold in the hello's resume and send a sync of each right after the hello, before the welcome; the reference node queues frames while it verifies the token and answers them once the session opens. protocol.md does not say a client may send before its welcome, so live runs, which may face another server, never do",
      0.25,
    ),
  })
    .prefault({})
    .describe('the virtual clients'),
  conversations: strict({
    directPerUser: count('direct conversations per user, paired with neighbours', 1),
    groupSize: count('members of each small group', 8),
    groupFraction: share('share of users in one small group', 0.5),
    largeGroups: count('groups above the large-group threshold', 0),
    largeGroupSize: count('members of each large group', 0),
    thresholdGroups: count(
      'groups of exactly the large-group threshold (limits.largeGroupThreshold, else 256) members: the biggest that still get pushes',
      0,
    ),
  })
    .prefault({})
    .describe('who talks to whom'),
  workload: strict({
    executor: z
      .enum(['constant-arrival-rate', 'ramping-arrival-rate'])
      .default('constant-arrival-rate')
      .describe("open-model executor, as k6's (default constant-arrival-rate)"),
    ratePer1kClients: z
      .number()
      .min(0)
      .default(200)
      .describe('messages per virtual second per 1,000 clients (default 200)'),
    stages: z
      .array(
        strict({
          durationMs: z.number().int().positive().describe('stage length (ms)'),
          target: z.number().min(0).describe('share of ratePer1kClients reached at the end of the stage'),
        }),
      )
      .optional()
      .describe('ramping-arrival-rate only: the rate ramps linearly to each target in turn'),
    bodyBytes: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(64)
      .describe('message body size (bytes; default 64)'),
    largeBodyShare: share(
      "share of sends whose body is the protocol's largest, 4096 UTF-8 bytes of characters that take several bytes or that JSON escapes",
      0,
    ),
    readProbability: share('chance a send is followed by some member reading', 0.3),
    httpReadsPerMin: z
      .number()
      .min(0)
      .default(0)
      .describe(
        'users reading a conversation over HTTP (GET messages, a random after, pages of 1-8 followed while more) per minute (default 0)',
      ),
    typingProbability: share('chance a send is preceded by typing', 0.1),
    watchPerClient: count('users whose presence each client watches', 2),
    churnFraction: share('share of clients that go offline at some point', 0),
    churnOfflineMs: ms('how long a churning client stays offline, on average', 5000),
    leaveFraction: share('share of users who leave at settle with all their devices and stay offline', 0.1),
    awayUsers: count(
      'users (among those some client watches) who put every device away at a random time in the first half of the faults phase and never come back; at the settle each device watching one dials again, so its home node (restarted during the faults or not) answers its watch anew and must tell when they were last seen, not 0 "never seen" (simulator only)',
      0,
    ),
    awayWindowMs: z
      .tuple([z.number().int().min(0), z.number().int().min(0)])
      .refine(([from, until]) => from < until, 'the window must end after it starts')
      .optional()
      .describe(
        "awayUsers: when they put their devices away, [from, until] (ms from the faults phase's start, as a fault's atMs) instead of the first half of the faults phase: inside a fault that cuts a node from the bus, their watchers on that node must still learn it, from the snapshots the other nodes send it on its way back",
      ),
    pressers: count(
      'users (one device each; per generator shard in live runs) who press past their send burst in the warm-up, then slow down',
      1,
    ),
    firstPress: z
      .boolean()
      .default(false)
      .describe(
        "the pressers' press is the node's very first sends: each presser dials at 0 on a steady link (no jitter) and presses at 200 ms with no send before, every other client dials from 300 ms on, so the first user a fresh node serves is a presser, judged with no slack (rate-limit; simulator only) (default false)",
      ),
    typists: count(
      'users (one device each, on a steady link: no jitter) who type in one of their conversations every 250 ms from 60% to 95% of the warm-up, faster than the typing throttle lets through, and at its exact boundaries (twice at 60%, then a throttle interval after less 1 ms, at it, and 250 ms past it) (simulator only)',
      1,
    ),
    resenders: count(
      'devices that, on each session after their first, send their last acked message again (same conversation, cmid and body), as an app that lost the ack before it kept it: the ack must be the first one, same seq and ts (idempotency; simulator only)',
      0,
    ),
    membershipChangesPerMin: z
      .number()
      .min(0)
      .default(0)
      .describe('group membership changes per virtual minute (default 0)'),
    emptiedGroups: count(
      'small groups whose every member an admin removes in one change, at a random time in the middle of the load (the membership changes leave them alone from then on): their former members, some offline and behind, may still read what was sequenced while they were members; two seconds later the admin adds them all back (a second span), and two phones off across both come back and read from their first span into the second (simulator only)',
      0,
    ),
    offlineVisitors: count(
      "users, each with every phone off, whom an admin adds to a small group no admin empties, at a random time in the load; a member sends, and once that message is acked the admin removes the user again; the phones come back 1.5 s later: they never heard of the group, and only their welcome's past membership (v1.1 `member: false`) tells them of it and of the messages sequenced while the user was a member, which no-loss owes them (simulator only)",
      0,
    ),
    adminProbes: count(
      'rounds of admin requests whose answer protocol.md fixes, each request at a random time in the load: a group and a direct conversation created over HTTP (then opened and written to by their members), a create of an id taken by another kind (409), a change to a conversation never created (404) and to a direct one (409), an add of a current member (a no-op, 2xx), a change adding and removing at once (2xx), a change a member asks with its own token, no admin role (403), a create and a change naming a bad id (400); admin-answers judges each answer; and a removal made again after a member wrote to the group (a no-op, 2xx), then the app of the removed user reopened: authorization judges that it reads nothing past its first removal (simulator only)',
      0,
    ),
    staleWelcomes: count(
      "users per round: on a fleet, while a node other than the admin's is cut from the bus (a partition of it from the bus or the store, 600 ms or longer), the admin creates a group with that many users whose devices are open on it and adds the first to a small group, through its own node, with those devices off; they come back 200 ms after the answers, so their hellos reach the cut node, which must catch up before it welcomes them and list both (welcome-lists); a round 100 ms into the cut, and one 1.2 s before its heal when it lasts 1.5 s or more (simulator only)",
      0,
    ),
    welcomeRacesAtMs: z
      .array(z.number().int().min(0))
      .default([])
      .describe(
        "on a fleet: at each of these times (ms from the faults phase's start, as a fault's atMs), if a redis-latency fault then slows a node other than the admin's (60 ms or more) and not the admin's, the admin creates a group with a user whose devices are open on that node, off for 300 ms before and coming back with the create: the group's bus event comes down the slow link while the welcome's records read is out, and the node must read it too and welcome (read-pages judges a hello never welcomed) (simulator only)",
      ),
    sendBeforeRemovalMs: ms(
      "a member who stays sends to the group through another node than the admin's this long before each removal the admin asks for (0: never): through a node slow to Redis the message is sequenced before the removal but reaches the other nodes after it, and the removed user's devices there must still get it, by a push to a past member (simulator only)",
      0,
    ),
    removalAfterAck: z
      .boolean()
      .default(false)
      .describe(
        "with sendBeforeRemovalMs: the admin also waits for that message's ack before asking the removal (asked at once after it, if that is later), so the store surely sequenced it while the removed user was a member, and a delivery checker may owe that user's devices online throughout its push; through a node slow to Redis the removal, asked through a fast one, reaches the other nodes before the message (default false; simulator only)",
      ),
    removalRacesAtMs: z
      .array(z.number().int().min(0))
      .default([])
      .describe(
        "with removalAfterAck, on a fleet: at each of these times (ms from the faults phase's start, as a fault's atMs) the admin makes the past-member race happen by construction, if a redis-latency fault then slows a node more than the admin's: a member with a device on that slow node sends to a small group through it, and once it is acked the admin removes another member who has a device open on another node (none on the slow one); the removal, asked through the fast admin node, reaches that device's node before the slow node's bus event of the message, and push reach owes the device the message, a push to a past member (simulator only)",
      ),
    unheardRace: z
      .boolean()
      .default(false)
      .describe(
        "on a fleet with a store-flaky fault losing every reply and no request on one node's link (fraction 0, repliesFraction 1) for at least 1.3 s: a member with a device on that node sends twice to a conversation in the window (both sequenced, both replies lost), a second device there dials again when the window ends (its welcome teaches the node the seqs, which it pushes from a gap fill), and the conversation stays quiet (no sends, reads or changes); the first resend, read back and published, is heard late, and the second must still be published, so that members' devices on the other nodes get it pushed (simulator only; unheard-race.ts)",
      ),
    quietRacesAtMs: z
      .array(z.number().int().min(0))
      .default([])
      .describe(
        "on a fleet: at each of these times (ms from the faults phase's start, as a fault's atMs), if a redis-latency fault then slows the admin's node and leaves another node's link undelayed, the admin changes a small group's membership (adds a user) and once it is answered a member sends to it through that fast node: the message, decided under the new membership, reaches a third node before the change, which holds its pushes and reads the group's record; from then on no app sends a cursor in that group (its members' devices still connected, a device on the third node kept online), so only the node's own retry of a failed record read (a store fault on its link then) releases the pushes push reach owes that device (simulator only)",
      ),
    listenerRacesAtMs: z
      .array(z.number().int().min(0))
      .default([])
      .describe(
        "on a fleet: at each of these times (ms from the faults phase's start, as a fault's atMs; it may fall in the heal phase) the admin creates through its node a group of two, a sender with a device open on the admin's node and a listener with a device open on another node, both kept online; only the sender's app opens the group, and writes to it at the answer: the listener's node hears of the group from the bus alone, and push reach owes the listener's device the message (simulator only; listener-races.ts)",
      ),
    sendAfterMembershipChange: z
      .boolean()
      .default(false)
      .describe(
        "right after each membership change is answered, a member sends to the group (in the simulator in turn from another node than the admin's and from it), so the message races the change; and so does the user just removed (default false)",
      ),
  })
    .prefault({})
    .describe('what the clients do'),
  phases: strict({
    warmupMs: ms('clients connect; no faults', 4000),
    faultsMs: ms('faults start within this phase', 16_000),
    healMs: ms('every fault healed; load goes on', 4000),
    settleMaxMs: ms('no new sends; the run must converge within this (liveness)', 30_000),
  })
    .prefault({})
    .describe('fixed phases: warm-up, faults, heal, settle'),
  costModel: z
    .string()
    .optional()
    .describe(
      'simulator only: a cost model (a name in scenarios/cost-model/, e.g. "reference-server", or a path to its .json) that gives each node step a service time, so nodes queue under load (default none: steps take no time)',
    ),
  faults: z.array(faultSchema).default([]).describe('the fault schedule (default none)'),
  swarm: strict({
    types: z.array(z.enum(faultTypes)).min(1).describe('fault types a seed may pick from'),
    count: count('faults each seed draws', 6),
    draw: z
      .array(z.enum(swarmKnobs))
      .default([])
      .describe(
        "workload settings each seed draws as well, in place of the scenario's values (simulator only; logged in the summary): clients.syncLimit from 4, 50, 500; workload.sendAfterMembershipChange on or off; workload.httpReadsPerMin from 0, 30, 120 (default none)",
      ),
  })
    .optional()
    .describe(
      'swarm testing: each seed picks its own mix of these fault types (and of the workload settings in `draw`)',
    ),
  checks: strict({
    skip: z
      .array(z.enum(checkProperties))
      .default([])
      .describe(
        'properties this scenario does not judge, e.g. typing-recipients when its workload sends no typing; each is listed as SKIP in the verdict table and as a skipped JUnit case, never as a pass (default none)',
      ),
    presenceKnownWithinMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "presence-changes: how long after a user's session began every node must know of it, so that an answer telling the user offline with an earlier lastSeen is a violation (protocol.md sets no bound: a fleet learns other nodes' sessions over its bus). Default the runner's answer bound (1 s in sim, 3 s live). A big run on an overloaded box may set more; the verdict then reports how stale the answers it let through were",
      ),
    slowConsumersPassBound: z
      .boolean()
      .optional()
      .describe(
        "server-frames: this scenario's slow-consumer fault is there to push send buffers past the node's bound, so a run where it started and no buffer past the bound had its 4509 close judged is unknown, not a pass (simulator only: live, the harness cannot see a server's send buffer). Default off (a swarm's drawn fault may never reach the bound)",
      ),
  })
    .prefault({})
    .describe('which properties the run judges (default: all of them)'),
  limits: strict(limitsShape).prefault({}).describe("the node's limits (default: the node's own)"),
  thresholds: strict({
    ackLatency: thresholdList('ackLatency', ['p(99)<=500']),
    failedSends: thresholdList('failedSends', ['count<1']),
    fanoutLag: thresholdList('fanoutLag', []),
    repeatedPushes: thresholdList('repeatedPushes', ['rate<0.01']),
    ackLatencyMsP99: z
      .number()
      .min(0)
      .optional()
      .meta({ deprecated: true })
      .describe('deprecated: ackLatency ["p(99)<=N"]'),
    failedSendsMax: z
      .number()
      .min(0)
      .optional()
      .meta({ deprecated: true })
      .describe('deprecated: failedSends ["count<=N"]'),
  })
    .prefault({})
    .describe('SLO thresholds in k6 syntax; any that does not hold ends the run with exit code 2'),
  liveThresholds: strict({
    why: z
      .string()
      .min(1)
      .describe(
        'the cost of a live run that the simulation does not model, as measured, that these thresholds allow for (a slow path of the server is no reason)',
      ),
    ...(Object.fromEntries(
      (Object.keys(thresholdMetrics) as ThresholdMetric[]).map((metric) => [
        metric,
        z
          .array(z.string())
          .optional()
          .describe(`replaces thresholds.${metric} in live runs; k6 expressions, all must hold`),
      ]),
    ) as Record<ThresholdMetric, z.ZodOptional<z.ZodArray<z.ZodString>>>),
  })
    .optional()
    .describe(
      "live runs only (chatsim live, gate --live --slo): these metrics' thresholds replace `thresholds`' lists, each whole, where a live run pays a cost the simulation does not model; `why` says which, with the measured figure",
    ),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ParsedScenario = z.output<typeof scenarioSchema>;
