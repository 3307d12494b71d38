// One seeded run of one scenario: build the world and population, drive the workload and faults
// through fixed phases (warm-up, faults, heal, settle, final), stream the history through the
// checkers, and judge. Same seed, same scenario, same options: same trace hash, bit for bit.

import { LatencyHistogram } from '../bench/latency-histogram.ts';
import type { RecorderCrossing, RecorderState } from '../metrics/run-recorder.ts';
import type { ChatNode, ChatNodeOptions } from '../reference-server/core/chat-node.ts';
import { defaultLimits } from '../reference-server/core/limits.ts';
import { type BugName, coreBugs } from '../reference-server/known-bugs/bugs.ts';
import { logBugPolicies } from '../reference-server/known-bugs/log-bugs.ts';
import { withStoreBugs, wrappedStoreBugs } from '../reference-server/store/buggy-store.ts';
import type { LogStore, LogStoreOptions } from '../reference-server/store/log-store.ts';
import type { StoreState } from '../reference-server/store/store-state.ts';
import { loadCostModel } from '../scenarios/load-cost-model.ts';
import { diskFaultTypes, type FaultSpec, type Scenario, type SwarmKnob } from '../scenarios/scenario.ts';
import { AdminLedger } from './admin-ledger.ts';
import { scheduleAdminProbes } from './admin-probes.ts';
import { addAdversaries } from './adversaries.ts';
import {
  devicePipelines,
  deviceSpeaksText,
  firstPressers,
  pickResenders,
  scheduleAway,
  scheduleChurn,
  scheduleClockTypists,
  scheduleHttpReads,
  scheduleMembershipChurn,
  schedulePresses,
  scheduleTypists,
  scheduleWatches,
  userLeaves,
  userPinned,
} from './behaviours.ts';
import { CheckerThread, type ThreadMeasured } from './checker-thread.ts';
import { CheckerFeed } from './checkers/checker-feed.ts';
import { IdTable } from './checkers/id-table.ts';
import { heldEventsMax } from './checkers/limits.ts';
import { ClientTimes } from './client/client-times.ts';
import { ResendingClient } from './client/resending-client.ts';
import { type ClientServices, VirtualClient } from './client/virtual-client.ts';
import { collectHeap } from './collect-heap.ts';
import { converged, finalSnapshot, finalState } from './convergence.ts';
import { FanoutLagMeter } from './fanout-lag.ts';
import { lostFlushAtProvisioning } from './faults/disk-lost-flush.ts';
import { faults } from './faults/index.ts';
import { readCursorsAtEnd } from './final-cursor-read.ts';
import type { Checker, CheckResult, HistoryEvent } from './history.ts';
import { traceConvFrame, traceDisplay, traceHistoryEvent, traceVerdicts } from './history-trace.ts';
import { SeedStreams } from './kernel/prng.ts';
import { PrngTable } from './kernel/prng-table.ts';
import { scheduleListenerRaces } from './listener-races.ts';
import type { LiveFacts } from './live/run-live.ts';
import type { MemoryWatch } from './memory-watch.ts';
import { buildPopulation } from './population.ts';
import { firstPressPlan } from './press.ts';
import { type CheckerThreadPerf, type RunPerf, startRunMeter } from './run-meter.ts';
import { type HistoryObserver, type MeterSources, RunMeters } from './run-meters.ts';
import { scaleClients } from './scale-clients.ts';
import { checkersViolations, scenarioCheckers } from './scenario-checkers.ts';
import { clientConfigsByUser, scenarioClientConfig } from './scenario-client-config.ts';
import { scheduleStaleWelcomes } from './stale-welcomes.ts';
import { swarmFaults, swarmWorkload } from './swarm.ts';
import { scheduleUnheardRace } from './unheard-race.ts';
import {
  type ExitCode,
  judgeCheckpointsSetAside,
  judgeCostedSteps,
  judgeLostFlushReach,
  judgeOpenFilesAtRest,
  judgeRun,
  judgeSegmentSizes,
  judgeTornFrameLengthReach,
  latencySource,
  type SloResult,
  skippedVerdicts,
} from './verdict.ts';
import { arrivals, messageBody } from './workload.ts';
import type { CostModel } from './world/cost-model.ts';
import { LogStorage, type LogStorageReport } from './world/log-storage.ts';
import { bugsTheMemoryStoreLacks } from './world/memory-storage.ts';
import { SimClient } from './world/sim-client.ts';
import type { FinalStore } from './world/storage.ts';
import { World, type WorldOptions, type WorldTap } from './world/world.ts';

export type RunOptions = {
  seed: number;
  clients?: number;
  bugs?: readonly BugName[];
  /** Called about every virtual second with the run's progress (0..1). */
  progress?: (done: number, phase: string, violations: number) => void;
  checkers?: Checker[];
  /**
   * Judge with the scenario's standard checkers on a second thread (checker-thread.ts): the same
   * verdicts and trace hash, the world no longer taking turns with the checkers for one core. For big
   * runs on a machine with a core to spare. Not with `checkers`.
   */
  checkerThread?: boolean;
  /** Sees every history event and the clock about once a virtual second (metrics). */
  recorder?: RunObserver;
  /** Records spans in virtual time (simulator/tracing/sim-tracer.ts); off when absent. */
  tracer?: RunTracer;
  /** What the workload writes as the nth message of a device (default: workload.ts messageBody). */
  messageBody?: (device: string, n: number, bytes: number, largeShare: number) => string;
  /** The store's decision rules, for tests that run a deliberately broken store (default: the real one). */
  storeState?: () => StoreState;
  /** Builds each incarnation of the log store, for tests that run a deliberately broken one (default: the real one). */
  logStore?: (options: LogStoreOptions) => LogStore;
  /** Builds each node's core, for tests that run a deliberately broken core (default: the shipped one). */
  chatNode?: (options: ChatNodeOptions) => ChatNode;
  /** Node steps cost service time (default: the scenario's `costModel`, loaded; none: steps are free). */
  costModel?: CostModel;
  /**
   * Looked at about once a virtual second, while the world waits for the checker thread and while the
   * verdicts are awaited: it throws MemoryLimitReached to stop a run near its memory's end (memory-watch.ts).
   */
  memoryWatch?: MemoryWatch;
};

/**
 * What run-scenario tells a metrics recorder (metrics/run-recorder.ts implements it). One that can
 * cross (`crossing`, `follow`, `adopt`) is kept on the checker thread when the checkers judge there: a
 * copy observes the history as it crosses, this one follows the clock meanwhile and adopts the copy's
 * state at the end.
 */
export type RunObserver = HistoryObserver & {
  crossing?(): RecorderCrossing;
  follow?(nowMs: number): void;
  adopt?(state: RecorderState): void;
};

type CrossingObserver = Required<RunObserver>;

/** What run-scenario tells a tracer: the world to watch, every history event, the end of the run. */
export type RunTracer = WorldTap & {
  attach(world: World): void;
  observe(event: HistoryEvent): void;
  /** The run is over: spans still open end now. */
  finish(): void;
};

export type RunSummary = {
  scenario: string;
  seed: number;
  traceHash: string;
  /** The trace hash every `traceCheckpointEvery` events, to find where two runs diverge. */
  traceCheckpoints: number[];
  traceCheckpointEvery: number;
  clients: number;
  events: number;
  virtualMs: number;
  wallMs: number;
  /** Speed and size of the run (simulated runs): never part of the trace. */
  perf?: RunPerf;
  messages: { sent: number; acked: number; failed: number; displayed: number; durable: number };
  ackLatencyMsP50: number;
  ackLatencyMsP99: number;
  settledAtMs: number | null;
  verdicts: CheckResult[];
  slo: SloResult[];
  /** 0 pass, 1 property violated, 2 SLO breached, 3 could not judge (did not settle, or a verdict unknown). */
  exitCode: ExitCode;
  /** Everything the seed decided that is not in the scenario file. */
  /** `workload`: the settings a swarm seed drew (`swarm.draw`), absent when it drew none. */
  derived: { faults: FaultSpec[]; bugs: string[]; workload?: Partial<Record<SwarmKnob, number | boolean>> };
  /** Present on live runs: the target, the generators and what they measured. */
  live?: LiveFacts;
  /** Simulated runs: how often a node got the bus back after losing it (and so caught up from the store). */
  busResumes?: number;
  /** Bus events lost with their node's process (kept while it was cut from Redis, or still on their way up). */
  busLostWithProcess?: number;
  /** What the real log and its simulated disk went through (simulator runs on the real log). */
  storage?: LogStorageReport;
  /** Runs with a cost model: how busy each node was while the load ran, and its longest queue. */
  nodeLoad?: NodeLoad;
};

export type NodeLoad = {
  costModel: string;
  /** Share of virtual time each node spent serving steps, warm-up to the end of the heal phase. */
  busyShare: number[];
  /** Most steps waiting for each node at once, over the whole run. */
  queuePeak: number[];
};

const settleCheckEveryMs = 500;
/** The settle phase lasts at least this, so a server has time to notice that the leavers left. */
const leaversGraceMs = 5000;
const nodeFaults: ReadonlySet<string> = new Set(['node-crash', 'node-pause', 'clock-offset']);
/** Faults on one node's link to its dependencies (`node`; redis-latency without one slows every node's). */
const nodeLinkFaults: ReadonlySet<string> = new Set(['store-flaky', 'redis-latency']);

/**
 * The nodes a fault touches, by their welcome ids, or undefined for every node (or none: a fault on
 * clients' links): node faults, so checkers can tell what a node held back, and faults on one node's
 * dependencies, so they can tell whose `unavailable` it explains (fault-quiet.ts). A disk fault acts on
 * the store's owner (store-owner.ts): embedded, the first node; shared, the store every node uses.
 */
function faultNodes(spec: FaultSpec, topology: Scenario['topology']): string[] | undefined {
  const id = (index: number): string => `n${(index % topology.nodes) + 1}`;
  if (spec.type === 'rolling-restart') return Array.from({ length: topology.nodes }, (_, i) => id(i));
  if (nodeFaults.has(spec.type) || (spec.type === 'partition' && (spec.target ?? 'clients') !== 'clients'))
    return [id(spec.node ?? 0)];
  if (nodeLinkFaults.has(spec.type))
    return spec.type === 'redis-latency' && spec.node === undefined ? undefined : [id(spec.node ?? 0)];
  if ((diskFaultTypes as readonly string[]).includes(spec.type) && topology.store === 'embedded')
    return [id(0)];
  return undefined;
}
/** How late a frame may reach a just-removed member (links and retries in flight). */
const authorizationGraceMs = 1000;

export async function runScenario(written: Scenario, options: RunOptions): Promise<RunSummary> {
  const wallStart = performance.now();
  const meter = startRunMeter();
  // `--clients`: fewer clients shrink large groups with them, so they stay large (scale-clients.ts).
  const scaled = options.clients === undefined ? written : scaleClients(written, options.clients);
  const streams = new SeedStreams(options.seed);
  // A swarm scenario's seed draws the workload settings `swarm.draw` names (its own stream).
  const { scenario, drawn: drawnWorkload } = swarmWorkload(scaled, streams.stream('swarm-workload'));
  const clientCount = scenario.clients.count;
  const bugs = new Set<string>(options.bugs ?? []);
  const lacking = scenario.topology.engine === 'memory' ? bugsTheMemoryStoreLacks(bugs) : [];
  if (lacking.length > 0)
    throw new Error(
      `${scenario.name}: the memory store (topology.engine "memory") cannot carry --bug ${lacking.join(', ')}: it answers once it has decided, with no fsync and no log`,
    );
  const ids = new IdTable();
  // Faults: the scenario's own plus, for a swarm scenario, this seed's picks.
  const derivedFaults = [...scenario.faults, ...swarmFaults(scenario, streams.stream('swarm'))];
  // Authorization bounds its grace per frame: a node pause that held a frame back extends it for that
  // frame only (the checker sees the pauses as `fault` events).
  const checkerSetup = {
    graceMs: authorizationGraceMs,
    // A rolling restart the scenario declares (not a swarm's pick, whose other faults would leave its
    // drains unjudged): drain-stop judges its nodes' stops, which only the simulator records.
    drainStops: scenario.faults.some((f) => f.type === 'rolling-restart'),
    // Every simulated node applies the scenario's watch bound, which the watch-past-bound adversary passes.
    watchBoundKnown: true,
    // Every simulated node applies the scenario's threshold (a live target configures its own).
    largeGroupThreshold: scenario.limits.largeGroupThreshold ?? defaultLimits.largeGroupThreshold,
    // The simulated network records each send buffer past the nodes' bound (server-frames owes it a 4509).
    sendBuffersSeen: true,
    // A cost model makes the nodes' speed part of the run: a slow answer is then not silence.
    judgeSilence: options.costModel === undefined && scenario.costModel === undefined,
    // A store that refuses at once (a failed fsync, a full disk, an outage) is answered for within a
    // frame's round trip and two fsyncs (the one under way, the one that fails), over 500 ms (read-pages).
    refusedAnswerMs:
      500 + 2 * scenario.network.fsyncMs + 2 * (scenario.network.latencyMs + scenario.network.jitterMs),
    // The simulated network's bounds on a frame from a node to a device (a bus hop included): typings
    // from steady links are judged at the throttle's exact boundaries (typing-recipients).
    relayDelayMs: {
      min: scenario.network.latencyMs,
      max: scenario.network.latencyMs + scenario.network.jitterMs + scenario.network.busLatencyMs,
    },
  };
  if (options.checkerThread && options.checkers)
    throw new Error('checkerThread judges with the standard checkers');
  const recorder = options.recorder;
  const measuresRepeats = scenario.thresholds.repeatedPushes.length > 0;
  // With the checkers on a second thread, the meters (run-meters.ts) observe the history there, and
  // the recorder with them when it can cross: the world's thread only writes the history.
  const recorderAway = options.checkerThread ? crossingObserver(recorder) : undefined;
  const memoryWatch = options.memoryWatch;
  memoryWatch?.enter('setup');
  const thread = options.checkerThread
    ? new CheckerThread(
        {
          scenario,
          ...checkerSetup,
          meters: {
            repeatedPushes: measuresRepeats,
            ...(recorderAway ? { recorder: recorderAway.crossing() } : {}),
          },
        },
        undefined,
        memoryWatch,
      )
    : undefined;
  /** The memory looked at: a run stopped near its end stops its checker thread too. */
  const watchMemory = (): void => {
    try {
      memoryWatch?.check();
    } catch (error) {
      void thread?.stop();
      throw error;
    }
  };
  const meters = thread ? undefined : new RunMeters(measuresRepeats, recorder);
  /** A recorder that observes here beside a thread that keeps the meters (one that cannot cross). */
  const recorderBeside = thread && !recorderAway ? recorder : undefined;
  const checkers = thread ? [] : (options.checkers ?? scenarioCheckers(scenario, { ids, ...checkerSetup }));
  // Each checker gets the kinds of event it reads (checker-feed.ts), not every event.
  const feed = new CheckerFeed(checkers);
  // In-process, the checkers take the history in runs of events (as the checker thread does, in its
  // batches), not each event as the world records it: between two events the world's own work pushed
  // the checkers' tables out of the cache, and a run of events finds them warm. The same events in the
  // same order; fed before the clock's ticks (progress reads the checkers then) and before they judge.
  const held: HistoryEvent[] = [];
  const heldDevices: number[] = [];
  let heldCount = 0;
  const feedHeld = (): void => {
    for (let at = 0; at < heldCount; at++) {
      const event = held[at]!;
      const device = heldDevices[at]!;
      if (device >= 0 && 'device' in event) ids.prime(event.user, event.device, device);
      feed.observe(event);
    }
    heldCount = 0;
  };
  // The ack latency of the SLO thresholds and of the summary's p50 and p99 (one source, as live runs
  // have): exact to 1.6% at every magnitude. Coarse buckets would judge p(99)<250 by the bucket bound
  // 500, and reported a p99 of 10,000 ms for crash-restart's 5.2 s.
  const ackLatency = new LatencyHistogram();
  // Kept only when a threshold asks for it (it holds two numbers per message until the end).
  const fanoutLag =
    scenario.thresholds.fanoutLag.length > 0 ? new FanoutLagMeter(scenario.phases.warmupMs) : undefined;
  const conversations: string[] = [];
  const counts = { sent: 0, acked: 0, failed: 0, displayed: 0, durable: 0 };
  const record = (event: HistoryEvent, device?: number): void => {
    switch (event.k) {
      case 'conv':
        conversations.push(event.conv);
        ledger.created(event.conv, event.members);
        break;
      case 'send':
        counts.sent++;
        break;
      case 'ack':
        counts.acked++;
        // Latency SLOs judge sends scheduled after the warm-up (clients still connecting are not news),
        // from the time the workload issued them (open model: a slow server cannot hide).
        if (event.sentAt >= scenario.phases.warmupMs) ackLatency.recordMs(event.at - event.sentAt);
        break;
      case 'failed':
        counts.failed++;
        break;
      case 'display':
        if (event.via !== 'own') counts.displayed++;
        break;
      case 'durable':
        counts.durable++;
        break;
    }
    // The trace sees what happened (seqs, cmids, bodies, membership), not only when: see history-trace.ts.
    traceHistoryEvent(world.trace, event);
    if (thread) {
      thread.observe(event, device ?? -1);
      recorderBeside?.observe(event);
    } else {
      held[heldCount] = event;
      heldDevices[heldCount++] = device ?? -1;
      if (heldCount === heldEventsMax) feedHeld();
      meters!.observe(event);
    }
    fanoutLag?.observe(event);
    options.tracer?.observe(event);
  };
  const ledger = new AdminLedger(record);
  const costModel =
    options.costModel ?? (scenario.costModel === undefined ? undefined : loadCostModel(scenario.costModel));

  // A node notices a connection that went silent after two missed heartbeats.
  const deadDetectMs = 2 * (scenario.limits.heartbeatMs ?? 10_000);
  const world = new World({
    streams,
    nodes: scenario.topology.nodes,
    storeMode: scenario.topology.store,
    busLossOnDisconnect: scenario.topology.busLossOnDisconnect,
    limits: scenario.limits,
    network: {
      ...scenario.network,
      connectTimeoutMs: 3000,
      storeTimeoutMs: 2000,
      deadDetectMs,
    },
    storeEngine: scenario.topology.engine,
    log: simulatedLog(bugs, options.storeState, options.logStore, clientCount),
    store: {
      readMessagesMax: 500,
      ackBeforeDurable: bugs.has('ack-before-durable'),
      noIdempotency: bugs.has('no-idempotency'),
      keyWithoutSender: bugs.has('key-without-sender'),
      syncSkips: bugs.has('sync-skips'),
      nonAtomicSeq: bugs.has('non-atomic-seq'),
      ...(options.storeState ? { state: options.storeState() } : {}),
    },
    record,
    coreBugs: new Set([...bugs].filter((bug) => coreBugs.has(bug as BugName))),
    ...(options.chatNode ? { newCore: options.chatNode } : {}),
    ...(costModel ? { costModel } : {}),
    ...(options.tracer ? { tap: options.tracer } : {}),
    speaksText: (device) => deviceSpeaksText(device, scenario.clients.textFraction, options.seed),
  });
  options.tracer?.attach(world);
  const population = buildPopulation(
    scenario,
    clientCount,
    (request) => world.storage.createAtSetup(request),
    record,
  );

  const tokenLifeMs = 24 * 3600_000;
  const clientConfig = {
    ...scenarioClientConfig(scenario),
    // Nothing here asks a client for `status(cmid)` (the checkers judge from the history): no ring of
    // settled sends per client (about 60 bytes a sending client, and an object per ack).
    settledKeptMax: 0,
  };
  // Each client's own stream, held in one table (a Prng object per client costs about 90 bytes), drawn
  // by its device index through services every client shares.
  const clientRngs = new PrngTable();
  // A client's displays and plain conv-frames (a push is one of each) go to the checker thread's writer
  // by their fields, without their event objects, when nothing else here observes events: `record`'s
  // work for those two kinds (the displayed count, the trace, the thread), as traceHistoryEvent mixes them.
  const packsEvents = thread !== undefined && !recorderBeside && !fanoutLag && !options.tracer;
  const services: ClientServices = {
    rng: (index) => clientRngs.float(index),
    token: (now, user) => world.tokens.mint(user, now + tokenLifeMs),
    record,
    ...(packsEvents
      ? {
          display: (device, at, via, message, user, deviceName) => {
            if (!thread.took(thread.history.display(device, at, via, message, user, deviceName)))
              return false;
            if (via !== 'own') counts.displayed++;
            traceDisplay(world.trace, message, via);
            return true;
          },
          convFrame: (device, at, conv, t, seq, node, user, deviceName) => {
            if (!thread.took(thread.history.convFrame(device, at, conv, t, seq, node, user, deviceName)))
              return false;
            traceConvFrame(world.trace, t, seq === undefined ? -1 : 1);
            return true;
          },
        }
      : {}),
    config: clientConfig,
    // Their connection times as rows of one table (client-times.ts), by device index.
    times: new ClientTimes(population.devices.length),
    pipelines: (index) =>
      devicePipelines(population.devices[index]!.device, scenario.clients.pipelineFraction, options.seed),
  };
  const configs = clientConfigsByUser(scenario, options.seed, clientConfig);
  const readOnlyServices: ClientServices = { ...services, config: configs.readOnly };
  // `d0`, `d1`...: cmids repeat across users (legal: the key includes the sender), so a server that
  // keys without the sender is caught. One string per prefix, not one per client.
  const cmidPrefixes = new Map<string, string>();
  const resenders = pickResenders(
    scenario,
    population.devices.length,
    (index) => population.convsOfUser[population.devices[index]!.userIndex]!.length > 0,
    streams,
  );
  for (const [index, device] of population.devices.entries()) {
    // Setting up millions of clients takes minutes and much of the run's memory.
    if (index % 65_536 === 0) watchMemory();
    if (clientRngs.add(streams.stream('client', index)) !== index)
      throw new Error('client streams out of step with the devices');
    const suffix = device.device.slice(device.device.lastIndexOf('-') + 1);
    const cmidPrefix = cmidPrefixes.get(suffix) ?? suffix;
    cmidPrefixes.set(suffix, cmidPrefix);
    const identity = { user: device.user, device: device.device, deviceIndex: index, cmidPrefix };
    const own = configs.of(device.user) === clientConfig ? services : readOnlyServices;
    const client = resenders.has(index)
      ? new ResendingClient(identity, own)
      : new VirtualClient(identity, own);
    world.addClient(
      new SimClient(
        client,
        index,
        population.convsOfUser[device.userIndex]!,
        false,
        userPinned(device.user, scenario.clients.pinnedFraction, options.seed),
      ),
    );
  }
  addAdversaries(world, population, streams, record, tokenLifeMs);
  // A lost flush at provisioning is the operator's first restart, before any client (disk-lost-flush.ts).
  const atProvisioning = derivedFaults.flatMap((spec) =>
    spec.type === 'disk-lost-flush' && spec.after === 'provisioning' ? [spec] : [],
  );
  await world.boot(async () => {
    for (const spec of atProvisioning) await lostFlushAtProvisioning(world, spec.lose);
  });

  const { warmupMs, faultsMs, healMs, settleMaxMs } = scenario.phases;
  const faultsAt = warmupMs;
  const healAt = warmupMs + faultsMs;
  const settleAt = healAt + healMs;
  const endMs = settleAt + settleMaxMs;
  const phase = { name: 'warmup' as string };
  memoryWatch?.enter('warmup');
  record({ k: 'phase', at: 0, phase: 'warmup' });

  // Clients come up spread over the first part of the warm-up, not all at t=0.
  const startRng = streams.stream('start');
  // workload.firstPress: the pressers dial at 0, everyone else once their first sends are in (press.ts).
  const pressers = firstPressers(world, scenario, streams);
  const othersFromMs = pressers.size > 0 ? firstPressPlan.othersFromMs : 0;
  for (let i = 0; i < world.clients.length; i++) {
    const draw = startRng.float();
    const at = pressers.has(i)
      ? 0
      : othersFromMs + Math.floor(draw * Math.max(1, warmupMs / 2 - othersFromMs));
    world.at(at, () => world.clientEffects(i, world.clients[i]!.client.start(world.now)));
  }
  scheduleWatches(world, scenario, streams, warmupMs);
  const pressBody = options.messageBody ?? messageBody;
  /** The bodies of one workload's sends: `<device>.<tag>`, numbered, at the scenario's sizes. */
  const taggedBodies =
    (tag: string) =>
    (device: string, n: number): string =>
      pressBody(`${device}.${tag}`, n, scenario.workload.bodyBytes, scenario.workload.largeBodyShare);
  schedulePresses(world, scenario, streams, taggedBodies('press'));

  scheduleTypists(
    world,
    scenario,
    streams,
    scenario.limits.typingThrottleMs ?? defaultLimits.typingThrottleMs,
  );

  const heals: (() => void)[] = [];
  derivedFaults.forEach((spec, n) => {
    if (atProvisioning.includes(spec as (typeof atProvisioning)[number])) return;
    const fault = faults[spec.type];
    const nodes = faultNodes(spec, scenario.topology);
    const target = spec.type === 'partition' ? { target: spec.target ?? 'clients' } : {};
    // A node cut from the bus alone is told so (`bus-lost`) and answers from what it heard before.
    const busOnly = spec.type === 'partition' && spec.target === 'bus';
    const note = (phase: 'start' | 'heal'): void =>
      record({
        k: 'fault',
        at: world.now,
        type: spec.type,
        phase,
        ...(nodes ? { nodes } : {}),
        ...(busOnly ? { busOnly } : {}),
        ...target,
      });
    world.at(faultsAt + spec.atMs, () => {
      note('start');
      const heal = fault.start({
        world,
        spec,
        rng: streams.stream('fault', n),
        clientCount: world.clients.length,
        note: (type, phase, nodes) => record({ k: 'fault', at: world.now, type, phase, nodes }),
        stopped: (node, killed) => record({ k: 'node-stop', at: world.now, node, killed }),
        holdOpen: () => {
          note('start');
          return () => note('heal');
        },
        readHistory: (conv, user, after, limit) => httpRead(conv, user, after, limit, 1),
      });
      let healed = false;
      const once = (): void => {
        if (!healed) {
          healed = true;
          heal();
          note('heal');
        }
      };
      heals.push(once);
      const until =
        spec.durationMs === undefined ? 0 : Math.min(spec.durationMs, healAt - faultsAt - spec.atMs);
      world.at(faultsAt + spec.atMs + Math.max(0, until), once);
    });
  });
  world.at(faultsAt, () => {
    phase.name = 'faults';
    memoryWatch?.enter('faults');
    record({ k: 'phase', at: world.now, phase: 'faults' });
  });
  world.at(healAt, () => {
    phase.name = 'heal';
    memoryWatch?.enter('heal');
    record({ k: 'phase', at: world.now, phase: 'heal' });
    for (const heal of heals) heal();
  });

  // The workload runs through warm-up, faults and heal; settle has no new sends.
  const workRng = streams.stream('workload');
  // The run's closures name the device count, not the population: its device records then die after
  // setup (each client holds what it needs of them).
  const deviceCount = population.devices.length;
  const source = arrivals(scenario, deviceCount, workRng, settleAt);
  let sendNumber = 0;
  /** Conversations a race keeps quiet from its start (unheard-race.ts): nobody sends to or reads them. */
  const quiet = new Set<string>();
  const arrive = (): void => {
    const index = workRng.int(deviceCount);
    const sim = world.clients[index]!;
    const convs = sim.convs;
    if (convs.length > 0) {
      const conv = convs[workRng.int(convs.length)]!;
      // A user removed from a group no longer writes to it (the app knows); the server is not tested on that
      // here. Nor does one who went away for good (workload.awayUsers).
      if (sim.left || !ledger.isMember(conv, sim.user) || quiet.has(conv)) {
        scheduleNext();
        return;
      }
      const client = sim.client;
      if (workRng.chance(scenario.workload.typingProbability))
        world.clientEffects(index, client.setTyping(conv, true, world.now));
      world.clientEffects(
        index,
        client.sendMessage(
          conv,
          (options.messageBody ?? messageBody)(
            sim.device,
            sendNumber++,
            scenario.workload.bodyBytes,
            scenario.workload.largeBodyShare,
          ),
          world.now,
        ),
      );
      if (workRng.chance(scenario.workload.readProbability)) {
        const reader = workRng.int(deviceCount);
        const readerConvs = world.clients[reader]!.convs;
        if (readerConvs.length > 0 && !world.clients[reader]!.left) {
          const read = readerConvs[workRng.int(readerConvs.length)]!;
          if (!quiet.has(read))
            world.clientEffects(reader, world.clients[reader]!.client.markRead(read, world.now));
        }
      }
    }
    scheduleNext();
  };
  const scheduleNext = (): void => {
    const next = source.next(world.now);
    if (next !== null) world.at(next, arrive);
  };
  const first = source.next(0);
  if (first !== null) world.at(first, arrive);
  let clockSendNumber = 0;
  scheduleClockTypists(world, derivedFaults, streams, { faultsAt, healAt, settleAt }, (index, conv) => {
    const sim = world.clients[index]!;
    if (sim.left || !ledger.isMember(conv, sim.user) || quiet.has(conv)) return false;
    world.clientEffects(index, sim.client.setTyping(conv, true, world.now));
    const { bodyBytes, largeBodyShare } = scenario.workload;
    const body = pressBody(`${sim.device}.clock`, clockSendNumber++, bodyBytes, largeBodyShare);
    world.clientEffects(index, sim.client.sendMessage(conv, body, world.now));
    return true;
  });
  const heldOffline = new Set<number>();
  const heldOnline = new Set<number>();
  scheduleChurn(world, scenario, streams, deviceCount, warmupMs, settleAt, heldOffline, heldOnline);
  const away = new Set<string>();
  // A window the scenario sets counts from the faults phase's start, as a fault's atMs does.
  const [awayFrom, awayUntil] = scenario.workload.awayWindowMs ?? [0, faultsMs / 2];
  scheduleAway(
    world,
    scenario,
    streams,
    faultsAt + awayFrom,
    faultsAt + awayUntil,
    (user) => userLeaves(user, scenario.workload.leaveFraction, options.seed),
    away,
  );
  const httpRead = scheduleHttpReads(world, scenario, streams, record, warmupMs, settleAt);
  scheduleMembershipChurn(
    world,
    scenario,
    streams,
    population,
    ledger,
    warmupMs,
    settleAt,
    taggedBodies('after-change'),
    heldOffline,
    heldOnline,
    quiet,
    httpRead,
    record,
  );
  scheduleUnheardRace(
    world,
    scenario,
    streams,
    options.seed,
    ledger,
    faultsAt,
    quiet,
    heldOnline,
    heldOffline,
    taggedBodies('unheard'),
  );
  scheduleStaleWelcomes(
    world,
    scenario,
    derivedFaults,
    streams,
    population,
    ledger,
    faultsAt,
    heldOffline,
    heldOnline,
  );
  scheduleListenerRaces(
    world,
    scenario,
    streams,
    population,
    ledger,
    faultsAt,
    heldOffline,
    heldOnline,
    taggedBodies('listened'),
  );
  scheduleAdminProbes(
    world,
    scenario,
    streams,
    population,
    ledger,
    warmupMs,
    settleAt,
    taggedBodies('new-conv'),
    httpRead,
  );

  // The run's clock, about once a virtual second, where the meters observe the history; and a turn of
  // the event loop, which the world's events and their promise reactions never take (agenda.ts): a run
  // process whose gate is gone, or a checker thread's error, is heard then, not at the run's end.
  const tick = async (): Promise<void> => {
    watchMemory();
    feedHeld();
    if (meters) meters.tick(world.now, world.events);
    else {
      thread!.tick(world.now, world.events);
      recorderAway?.follow(world.now);
      recorderBeside?.tick(world.now, world.events);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  // Run to settle, then check convergence until it holds or the liveness window ends.
  let lastProgress = 0;
  const step = 1000;
  for (let t = step; t <= settleAt; t += step) {
    await world.runUntil(Math.min(t, settleAt));
    await tick();
    if (options.progress && t - lastProgress >= step) {
      lastProgress = t;
      options.progress(t / endMs, phase.name, violationsSoFar(checkers, thread));
    }
  }
  await world.runUntil(settleAt);
  const busyMsUnderLoad = world.nodes.map((node) => node.busyMs);
  phase.name = 'settle';
  memoryWatch?.enter('settle');
  record({ k: 'phase', at: world.now, phase: 'settle' });
  // Everyone comes back, except the leavers, who go and stay offline: watchers must see them go.
  // Leavers' closes take the server a while (a close handshake): watchers hear later. A leaver whose
  // connection a fault cut silently sends a close that never arrives: its node learns it is gone only
  // by missed heartbeats, so the run waits for that too (exploration seed 40010225178913: the run
  // stopped 5 s into the settle while a node still held, rightly, a leaver cut 9 s before). So does a
  // leaver whose cut connection the client itself gave up on less than a detection before the settle:
  // that close was lost too, and the node still holds the connection (explored steady seed 3 at 70
  // clients: closed at 23.8 s, cut since 9.0 s, the node learnt at 29.0 s, the run ended at 29.0 s).
  let leaversGoneBy = settleAt + leaversGraceMs;
  // A device that watches a user who went away (workload.awayUsers) dials again, as a phone moving to
  // another network: its home node, restarted during the faults or not, answers its watch anew, and
  // must tell when that user was last seen.
  const redials = (sim: SimClient): boolean =>
    away.size > 0 && sim.client.watching.some((user) => away.has(user));
  for (let i = 0; i < world.clients.length; i++) {
    const sim = world.clients[i]!;
    const leaves =
      sim.left || (!sim.adversary && userLeaves(sim.user, scenario.workload.leaveFraction, options.seed));
    sim.left = leaves;
    if (leaves && (world.network.closeIsLost(i) || world.network.lostCloseAt(i) + deadDetectMs > settleAt))
      leaversGoneBy = Math.max(leaversGoneBy, settleAt + deadDetectMs + leaversGraceMs);
    if (!leaves && !sim.adversary && redials(sim)) world.clientEffects(i, sim.client.goOffline(world.now));
    world.clientEffects(i, leaves ? sim.client.goOffline(world.now) : sim.client.goOnline(world.now));
  }
  let settledAt: number | null = null;
  for (let t = settleAt + settleCheckEveryMs; t <= endMs; t += settleCheckEveryMs) {
    await world.runUntil(t);
    await tick();
    options.progress?.(t / endMs, 'settle', violationsSoFar(checkers, thread));
    if (t >= leaversGoneBy && converged(world, settleAt)) {
      settledAt = t;
      break;
    }
  }
  memoryWatch?.enter('final read');
  // With the checkers on their thread, the whole world's heap is collected once as the final read begins:
  // the cursor read's and the snapshot's allocations then reuse the room the run's garbage held, instead of
  // growing the committed heap over the settle's level (at a million clients the final read was the run's
  // peak, 0.15 GB over the settle). The released world is collected again below (collect-heap.ts).
  if (thread) collectHeap();
  // What the server says its cursors are, read as a black box (judged by cursor-monotonicity).
  await readCursorsAtEnd(world, ledger, conversations, streams.stream('cursor-read'), record);
  record({ k: 'phase', at: world.now, phase: 'final' });

  const store = await world.storage.finalRead();
  options.tracer?.finish();
  const clientsInRun = world.clients.length;
  const judging = judgeFinal(thread, checkers, world, store, settledAt, conversations, feedHeld);
  // What the checkers judge now is in the final state and the store: the clients, cores and pending
  // events go before the final judging, which at a million clients otherwise stacked its memory on a
  // whole world.
  world.release();
  // With the checkers on their thread, the released world's dead heap is collected before the final
  // state crosses: the crossing's allocations then reuse its room, and the checker thread's finish no
  // longer stacks on a whole world (collect-heap.ts). In-process runs are the gate's small ones.
  if (thread) collectHeap();
  watchMemory();
  // With a checker thread, judging() sends the final state over (the crossing) and the verdicts are
  // awaited; in-process, it judges.
  memoryWatch?.enter(thread ? 'crossing' : 'judging');
  const verdictsCome = judging();
  memoryWatch?.enter('judging');
  const judged = await (memoryWatch && thread
    ? memoryWatch.guard(verdictsCome, () => void thread.stop())
    : verdictsCome);
  memoryWatch?.end();
  if (judged.measured?.recorder) recorderAway!.adopt(judged.measured.recorder);
  const measured: MeterSources = judged.measured?.sources ?? meters!.sources();
  const storage = world.storage instanceof LogStorage ? world.storage.report() : undefined;
  const verdicts = judgeTornFrameLengthReach(
    judgeLostFlushReach(
      judgeCheckpointsSetAside(
        [
          ...judged.verdicts,
          ...(options.checkers ? [] : skippedVerdicts(scenario)),
          ...(costModel && !options.checkers ? [judgeCostedSteps(world.nodes)] : []),
          ...(storage && !options.checkers
            ? [
                judgeOpenFilesAtRest(storage.openFilesAtRestMax, simulatedLogLimits.readFilesMax),
                judgeSegmentSizes(
                  (world.storage as LogStorage).disk.syncedFiles((path) => path.endsWith('.seg')),
                  simulatedLogLimits.segmentBytesMax,
                ),
              ]
            : []),
        ],
        storage?.checkpointsSetAsideUndamaged,
      ),
      derivedFaults,
      storage?.disk.lostFlushes,
    ),
    derivedFaults,
    storage?.tornFrameLengths,
  );
  traceVerdicts(world.trace, verdicts);
  const { slo, exitCode } = judgeRun(scenario, verdicts, settledAt, {
    ackLatency: latencySource(ackLatency),
    ...(fanoutLag ? { fanoutLag: latencySource(fanoutLag.histogram()) } : {}),
    ...(measured.repeatedPushes ? { repeatedPushes: measured.repeatedPushes } : {}),
    failedSends: measured.failedSends,
  });
  return {
    scenario: scenario.name,
    seed: options.seed,
    traceHash: world.trace.hex(),
    traceCheckpoints: world.trace.checkpoints,
    traceCheckpointEvery: world.trace.checkpointEvery,
    clients: clientsInRun,
    events: world.events,
    virtualMs: world.now,
    wallMs: Math.round(performance.now() - wallStart),
    perf: meter.finish(world.events, judged.perf, memoryWatch),
    messages: counts,
    ackLatencyMsP50: ackLatency.percentileMs(50),
    ackLatencyMsP99: ackLatency.percentileMs(99),
    settledAtMs: settledAt,
    verdicts,
    slo,
    exitCode,
    derived: {
      faults: derivedFaults,
      bugs: [...bugs],
      ...(Object.keys(drawnWorkload).length > 0 ? { workload: drawnWorkload } : {}),
    },
    busResumes: world.bus.resumes,
    busLostWithProcess: world.bus.lostWithProcess,
    ...(storage ? { storage } : {}),
    ...(costModel
      ? {
          nodeLoad: {
            costModel: costModel.name,
            busyShare: busyMsUnderLoad.map((ms) => (settleAt > 0 ? ms / settleAt : 0)),
            queuePeak: world.nodes.map((node) => node.queuePeak),
          },
        }
      : {}),
  };
}

/** The recorder when it can be kept on the checker thread. */
function crossingObserver(recorder: RunObserver | undefined): CrossingObserver | undefined {
  return recorder?.crossing && recorder.follow && recorder.adopt ? (recorder as CrossingObserver) : undefined;
}

/** What the checkers found so far, for progress lines (verdicts come at the end). */
function violationsSoFar(checkers: readonly Checker[], thread: CheckerThread | undefined): number {
  return thread ? thread.violationsSoFar() : checkersViolations(checkers);
}

/** The final state taken from the world now, judged when called (on the checker thread, or here). */
function judgeFinal(
  thread: CheckerThread | undefined,
  checkers: readonly Checker[],
  world: World,
  store: FinalStore,
  settledAt: number | null,
  conversations: readonly string[],
  /** Gives the checkers the history events still held (in-process), before they judge. */
  feedHeld: () => void,
): () => Promise<{
  verdicts: CheckResult[];
  perf: CheckerThreadPerf | undefined;
  measured?: ThreadMeasured;
}> {
  if (thread) {
    const snapshot = finalSnapshot(world, store, settledAt, conversations);
    return () => thread.finish(snapshot);
  }
  const final = finalState(world, store, settledAt, conversations);
  return async () => {
    feedHeld();
    return { verdicts: checkers.map((checker) => checker.finish(final)), perf: undefined };
  };
}

/**
 * The real log's bounds in the simulator, shrunk from production's (limits.ts) so a run of seconds
 * reaches every one of them: segments rotate, checkpoints come every few hundred records, a
 * conversation's index spans several checkpoint chunks (production: 10,000 entries; a sim group gets
 * a few hundred seqs, a direct conversation a few dozen), a backlog of queued records is written in
 * more than one group-commit batch (8 MiB; a sim backlog stays under 16 KiB) and a checkpoint in more
 * than one write (1 MiB; a sim checkpoint is some 100-300 KiB).
 */
export const simulatedLogLimits = {
  segmentBytesMax: 64 * 1024,
  checkpointEveryRecords: 400,
  checkpointChunkEntries: 16,
  groupCommitBytesMax: 4 * 1024,
  checkpointWriteBytes: 16 * 1024,
  tailCacheMessagesPerConv: 8,
  tailCacheConvsMax: 16,
  readFilesMax: 2,
} as const;

/**
 * The log's write-queue bound in the simulator, by the run's clients: 1 KiB a client, 512 KiB at
 * least (production's 64 MiB is never near in a run of seconds, so a leak in the queue's accounting went
 * unseen: 3c0f288 seed-3 sample mutant 2505 added an fsync's bytes back instead of taking them off, so a
 * live server would refuse every write `unavailable` once it had written 32 MiB). A correct store's
 * backlog stays under 100 bytes a client, a 50x slow disk included (58 KB at 600 clients, disk-faults
 * and churn seed 1; 3-16 KB at 200 in steady, large-group and disk-faults), while one incarnation writes
 * about 2 KiB a client in a run (steady: 429 KB at 200 clients): a correct store never passes this
 * bound, and one whose queue only grows refuses every write within the run (no-spurious-unavailable).
 */
export function simulatedPendingBytesMax(clients: number): number {
  return Math.max(512 * 1024, clients * 1024);
}

/**
 * How the simulator builds each incarnation of the real log: at `simulatedLogLimits`, so a run of
 * seconds rotates segments, chunks its checkpoints' indexes and recovers from checkpoints; the store
 * bugs named; a broken decision state when a test asks for one.
 */
export function simulatedLog(
  bugs: ReadonlySet<string>,
  storeState: (() => StoreState) | undefined,
  logStore?: (options: LogStoreOptions) => LogStore,
  clients = 0,
): NonNullable<WorldOptions['log']> {
  let incarnation = 0;
  const wrapped = [...bugs].filter((bug) => wrappedStoreBugs.has(bug as BugName)) as BugName[];
  return {
    storeOptions: {
      segmentBytesMax: simulatedLogLimits.segmentBytesMax,
      checkpointEveryRecords: simulatedLogLimits.checkpointEveryRecords,
      limits: {
        checkpointChunkEntries: simulatedLogLimits.checkpointChunkEntries,
        groupCommitBytesMax: simulatedLogLimits.groupCommitBytesMax,
        checkpointWriteBytes: simulatedLogLimits.checkpointWriteBytes,
        tailCacheMessagesPerConv: simulatedLogLimits.tailCacheMessagesPerConv,
        tailCacheConvsMax: simulatedLogLimits.tailCacheConvsMax,
        readFilesMax: simulatedLogLimits.readFilesMax,
        pendingBytesMax: simulatedPendingBytesMax(clients),
      },
      ackBeforeDurable: bugs.has('ack-before-durable'),
      ...(storeState ? { newState: storeState } : {}),
      policies: logBugPolicies([...bugs] as BugName[]),
    },
    wrap: (store) => withStoreBugs(store, wrapped, { runId: `sim${incarnation++}` }),
    ...(logStore ? { newStore: logStore } : {}),
  };
}
