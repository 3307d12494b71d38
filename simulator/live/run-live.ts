// One live run of one scenario against real servers: provision users and conversations through the
// admin HTTP API, fork generators that drive the simulator's virtual clients over real sockets, walk
// the same phases as a simulation on the wall clock (warm-up, faults, heal, settle, final read),
// carry out the faults the target allows, stream every generator's history into the standard
// checkers, and judge against what the servers expose over HTTP after settle.

import { LatencyHistogram } from '../../bench/latency-histogram.ts';
import { LiveNetwork } from '../../chaos/live-network.ts';
import { type FaultSpec, type Scenario, withLiveThresholds } from '../../scenarios/scenario.ts';
import { planAdversaries } from '../adversaries.ts';
import { userPinned } from '../behaviours.ts';
import { CheckerFeed } from '../checkers/checker-feed.ts';
import { IdTable } from '../checkers/id-table.ts';
import { FailedSends } from '../failed-sends.ts';
import { FanoutLagMeter } from '../fanout-lag.ts';
import type { Checker, DeviceRef, FinalState, HistoryEvent } from '../history.ts';
import { SeedStreams } from '../kernel/prng.ts';
import { buildPopulation } from '../population.ts';
import { RepeatedPushes } from '../repeated-pushes.ts';
import type { RunObserver, RunSummary } from '../run-scenario.ts';
import { checkersViolations, scenarioCheckers } from '../scenario-checkers.ts';
import { swarmFaults } from '../swarm.ts';
import { judgeRun, latencySource, skippedVerdicts } from '../verdict.ts';
import { AdminApi } from './admin-api.ts';
import { failoverWarning, openFilesLimit, planSockets } from './file-budget.ts';
import { finalCursorRead, finalRead } from './final-read.ts';
import { finalReadOrder } from './final-read-order.ts';
import type { LiveFleet } from './fleet.ts';
import type { GeneratorPlan, PlannedDevice, ShardStatus } from './generator-messages.ts';
import { GeneratorPool, type GeneratorReport } from './generator-pool.ts';
import { checkersOwed, describeHeld, type Held, holdForOwed } from './hold-owed.ts';
import { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';
import {
  describeLiveFault,
  type LiveCapabilities,
  liveRefusal,
  needsNetwork,
  startLiveFault,
} from './live-faults.ts';
import { scheduleLiveHttpReads } from './live-http-reads.ts';
import { type LiveMembership, scheduleLiveMembership } from './live-membership.ts';
import { cpuPressureShare, loadLimitedBy, readCpuPressureUs } from './load-limited.ts';
import { preflight } from './preflight.ts';
import { type ProcessFigures, type ProcessRef, ProcessSampler } from './process-sampler.ts';
import { type ProgressiveReadFacts, ProgressiveReads } from './progressive-read.ts';
import { settle } from './settle.ts';
import { SpilledStore } from './spilled-store.ts';

export type LiveOptions = {
  seed: number;
  clients?: number;
  fleet: LiveFleet;
  secret: string;
  /** Deliberate bugs the fleet was started with (for the report). */
  bugs?: readonly string[];
  /** Replaces the scenario's fault timeline (a game day's own file). */
  faults?: FaultSpec[];
  /** Soak: the faults phase lasts this long instead of the scenario's. */
  durationMs?: number;
  /**
   * Network faults go through Toxiproxy proxies between client groups and nodes (embedded, or
   * TOXIPROXY_URL). false: no proxies, network faults refused. Runs without network faults go direct.
   */
  network?: boolean;
  /** Clients go through the Toxiproxy layer even without a network fault (to measure what it costs). */
  proxies?: boolean;
  /** At least this many generator processes (default: as few as the socket limit allows). */
  generators?: number;
  /**
   * The per-process open-file limit the run is planned for (default: this process's, read from
   * /proc/self/limits; children inherit it). A run that cannot fit is refused before anything starts.
   */
  filesMax?: number;
  progress?: (done: number, phase: string, violations: number) => void;
  /** Called once the target has proved usable (nodes up, secret accepted, everything provisioned). */
  onReady?: () => void;
  /** One line per fault start and heal, and other news of the run (stderr). */
  log?: (line: string) => void;
  checkers?: Checker[];
  /**
   * The target's large-group threshold, when known (reference nodes started with the scenario's limits,
   * or the user's word): delivery mode is then judged too.
   */
  largeGroupThreshold?: number;
  /** Harness metrics: sees every history event, the run clock every second, and fault windows. */
  recorder?: RunObserver;
  /**
   * How often the servers' messages are read during the run, so the checkers judge as they go and keep
   * flat memory (progressive-read.ts; default liveLimits.progressiveReadEveryMs; 0: only the final read).
   */
  progressiveReadEveryMs?: number;
  /**
   * After settle, the sessions stay open at most this long while the checkers are still owed what a
   * longer run could judge (hold-owed.ts; default liveLimits.holdOwedMaxMs; 0: no hold).
   */
  holdOwedMaxMs?: number;
  /**
   * Tests: the generators are told to stop this much apart (generator i i x this late), as a loaded
   * box may deliver the finish, so one shard stops while another still records (default 0).
   */
  finishStaggerMs?: number;
};

export type LiveFacts = {
  target: string;
  generators: number;
  generatorCpuShareMax: number;
  /** Peak resident set and JS heap in use of the largest generator, sampled during the run. */
  generatorRssBytesMax: number;
  generatorHeapBytesMax: number;
  /** The longest a generator's event loop was blocked (ms): its clients read pings and fired timers that late. */
  generatorLoopDelayMsMax: number;
  /**
   * How far, at most, the checkers lagged behind the generators' clocks (ms, sampled every second): the
   * driver's own backlog of history, and so how late it read the generators' answers.
   */
  historyLagMsMax: number;
  /**
   * A generator used more than ~85% of its core, or its loop stalled for seconds (starved of a core):
   * latencies measure the generator as much as the server (load-limited.ts says which).
   */
  loadLimited: boolean;
  /** Share of the run's wall time in which a task of the box waited for a CPU (/proc/pressure/cpu; null without PSI). */
  cpuPressure: number | null;
  connects: number;
  connectFailures: number;
  /** Attempts the clients gave up before the WebSocket opened (their connect timeout), then retried. */
  abandonedConnects: number;
  /** Connects that waited for a slot before being dialed (liveLimits.connectsInFlightMax), and the most in flight in one generator. */
  connectsWaited: number;
  connectsInFlightMax: number;
  /** Connections closed after the WebSocket opened and before a welcome, by close code ('reset': no close frame). */
  closedInHello: Record<string, number>;
  malformedFrames: number;
  /** First sessions welcomed per second, from the first client's first attempt to the last first welcome. */
  connectRate: { welcomed: number; perSec: number };
  /** The per-process open-file limit the run was planned for, and each process's sampled figures. */
  filesMax: number | null;
  processes: ProcessFigures[];
  latencyMs: Record<'ack' | 'deliveryDirect' | 'deliveryGroup', Quantiles>;
  /** `cursorRequests`: the final cursor read's `GET .../receipts` requests. */
  finalRead: { conversations: number; requests: number; uncovered: string[]; cursorRequests: number };
  /** The reads during the run whose seqs the checkers judged as the run went. */
  progressiveRead: ProgressiveReadFacts;
  /**
   * How long the sessions were held open after settle for what the checkers were still owed, and what
   * (hold-owed.ts; null: the run did not settle, so nothing was held); `maxMs`: the bound.
   */
  held: (Held & { maxMs: number }) | null;
  faultLog: string[];
};

export type Quantiles = { count: number; p50: number; p99: number; p999: number; max: number };

export class LiveRefusedError extends Error {
  readonly code = 'CHATSIM_ERR_LIVE_FAULT';
}

/** The fault timeline of a run: the given one, or the scenario's plus this seed's swarm picks. */
export function liveFaultPlan(scenario: Scenario, seed: number, faults?: FaultSpec[]): FaultSpec[] {
  return faults ?? [...scenario.faults, ...swarmFaults(scenario, new SeedStreams(seed).stream('swarm'))];
}

/** What `fleet` lets a live run do (liveRefusal's capabilities). */
export function liveCapabilities(fleet: LiveFleet, network = true): LiveCapabilities {
  return {
    canSignal: fleet.canSignal,
    network,
    nodes: fleet.nodeCount,
    ...(fleet.redis ? { redis: { owned: fleet.redis.owned, cluster: fleet.redis.cluster === true } } : {}),
  };
}

/** Throws LiveRefusedError naming every fault this target cannot carry out. */
export function checkLiveFaults(faults: readonly FaultSpec[], fleet: LiveFleet, network = true): void {
  const caps = liveCapabilities(fleet, network);
  const refusals = faults.map((spec) => liveRefusal(spec, caps)).filter((r): r is string => r !== null);
  if (refusals.length > 0)
    throw new LiveRefusedError(
      `this scenario cannot run live against ${fleet.reproFlags}: ${[...new Set(refusals)].join('; ')}`,
    );
}

export async function runLive(asWritten: Scenario, options: LiveOptions): Promise<RunSummary> {
  const wallStart = performance.now();
  const scenario = withLiveThresholds(asWritten);
  const pressureAtStart = readCpuPressureUs();
  const log = options.log ?? (() => {});
  const streams = new SeedStreams(options.seed);
  const phases = {
    ...scenario.phases,
    ...(options.durationMs === undefined ? {} : { faultsMs: options.durationMs }),
  };
  const faults = liveFaultPlan(scenario, options.seed, options.faults);
  checkLiveFaults(faults, options.fleet, options.network !== false);
  const fleet = options.fleet;
  const tokens = new TokenCache(options.secret, liveLimits.tokenLifeSec);

  // ---- checkers and the history stream --------------------------------------------------------
  const ids = new IdTable();
  // Live frames are late by real network and scheduling delays: a wider grace than the simulator's.
  const checkers =
    options.checkers ??
    scenarioCheckers(scenario, {
      ids,
      graceMs: 3000,
      answerWithinMs: 3000,
      // A loaded server answers late, which the client's wait cannot tell from silence.
      judgeSilence: false,
      // A real store may fail under load with no fault injected: `unavailable` is not judged live.
      judgeUnavailable: false,
      ...(options.largeGroupThreshold === undefined
        ? {}
        : { largeGroupThreshold: options.largeGroupThreshold, reachDueMs: liveLimits.reachDueMs }),
    });
  // Each checker gets the kinds of event it reads (checker-feed.ts).
  const feed = new CheckerFeed(checkers);
  const counts = { sent: 0, acked: 0, failed: 0, displayed: 0, durable: 0 };
  // The SLO's failed sends leave out refusals the harness's own removals demanded.
  const failedSends = new FailedSends();
  let events = 0;
  const fanoutLag =
    scenario.thresholds.fanoutLag.length > 0 ? new FanoutLagMeter(scenario.phases.warmupMs) : undefined;
  const repeatedPushes = scenario.thresholds.repeatedPushes.length > 0 ? new RepeatedPushes() : undefined;
  const firstSessions = { welcomed: 0, firstAttemptAt: Number.POSITIVE_INFINITY, lastAt: 0 };
  /** Conversation -> the highest seq acked so far (live-membership.ts bounds a change's seq by it). */
  const ackedUpTo = new Map<string, number>();
  /** The latest ack's time: the final read must have begun after it (final-read-order.ts). */
  let lastAckAt = Number.NEGATIVE_INFINITY;
  const record = (event: HistoryEvent): void => {
    events++;
    if (event.k === 'session' && event.first) {
      firstSessions.welcomed++;
      firstSessions.firstAttemptAt = Math.min(firstSessions.firstAttemptAt, event.at - event.connectMs);
      firstSessions.lastAt = Math.max(firstSessions.lastAt, event.at);
    }
    if (event.k === 'send') counts.sent++;
    else if (event.k === 'ack') {
      counts.acked++;
      if (event.at > lastAckAt) lastAckAt = event.at;
      if (event.seq > (ackedUpTo.get(event.conv) ?? 0)) ackedUpTo.set(event.conv, event.seq);
    } else if (event.k === 'failed') counts.failed++;
    else if (event.k === 'display' && event.via !== 'own') counts.displayed++;
    failedSends.observe(event);
    feed.observe(event);
    fanoutLag?.observe(event);
    repeatedPushes?.observe(event);
    options.recorder?.observe(event);
  };

  // ---- population and provisioning -----------------------------------------------------------
  const clientCount = options.clients ?? scenario.clients.count;
  const created: { id: string; kind: 'direct' | 'group'; members: string[] }[] = [];
  // A server the driver does not own keeps what earlier runs made: this run's ids get their own prefix.
  const prefix = options.fleet.canSignal ? '' : `r${Date.now().toString(36)}.`;
  const population = buildPopulation(
    scenario,
    clientCount,
    (request) => created.push(request),
    record,
    prefix,
  );
  const adversaries = planAdversaries(population, streams);
  for (const a of adversaries)
    if (a.conv !== null) {
      created.push({ id: a.conv.id, kind: 'direct', members: a.conv.members });
      record({ k: 'conv', at: 0, conv: a.conv.id, kind: 'direct', members: a.conv.members });
    }
  // Every generator and local node must fit the open-file limit: planned before anything starts.
  const filesMax = options.filesMax ?? openFilesLimit();
  const socketPlan = planSockets({
    devices: population.devices.length + adversaries.length,
    localNodes: options.fleet.localNodes,
    generatorsMin: options.generators ?? 1,
    filesMax: filesMax ?? Number.POSITIVE_INFINITY,
  });
  const failover = failoverWarning(socketPlan, options.fleet.localNodes, faults);
  if (failover !== null) log(`warning: ${failover}`);
  // Interrupted (Ctrl-C, a CI timeout's SIGTERM): exit, so the exit hooks kill every process the run
  // started (node groups, generators) instead of leaving them behind.
  const onSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await fleet.start();
  let network: LiveNetwork | null = null;
  const pool = new GeneratorPool(record);
  const driver: ProcessRef = { name: 'driver', kind: 'driver', pid: process.pid };
  const sampler = new ProcessSampler(() => [...fleet.processes(), ...pool.processes(), driver]);
  try {
    const nodeIds = await preflight(fleet.urls, tokens);
    // The nodes' first sample is taken before any client connects (memory per connection grows from it).
    sampler.start();
    const api = new AdminApi(fleet.urls[0]!, tokens.admin());
    const provisionStart = performance.now();
    await Promise.all(created.map((c) => api.createConversation(c.id, c.kind, c.members)));
    options.onReady?.();
    log(
      `provisioned ${created.length} conversations for ${population.users.length + adversaries.length} users in ${((performance.now() - provisionStart) / 1000).toFixed(1)} s`,
    );

    // ---- generators ---------------------------------------------------------------------------
    const devices: PlannedDevice[] = population.devices.map((d, index) => ({
      index,
      user: d.user,
      device: d.device,
      home: index,
      ...(userPinned(d.user, scenario.clients.pinnedFraction, options.seed) ? { pinned: true } : {}),
      convs: population.convsOfUser[d.userIndex]!,
    }));
    for (const [n, a] of adversaries.entries())
      devices.push({
        index: devices.length,
        user: a.user,
        device: a.device,
        home: n,
        convs: a.conv === null ? [] : [a.conv.id],
        adversary: { behaviours: a.behaviours, foreignConvs: a.foreignConvs, forged: a.forged },
      });
    const shards = socketPlan.generators;
    const { warmupMs, faultsMs, healMs, settleMaxMs } = phases;
    const faultsAt = warmupMs;
    const healAt = warmupMs + faultsMs;
    const settleAt = healAt + healMs;
    const endMs = settleAt + settleMaxMs;
    if (options.network !== false && (options.proxies === true || needsNetwork(faults))) {
      network = await LiveNetwork.start({
        nodes: fleet.urls.map((u) => u.replace(/^https?:\/\//, '')),
        groups: liveLimits.networkGroups,
        seed: options.seed,
        expectedClients: devices.length,
      });
      log(
        `network faults through Toxiproxy: ${liveLimits.networkGroups} client groups x ${fleet.urls.length} node(s)`,
      );
    }
    const nodeUrls = network
      ? network.addresses().map((row) => row.map((address) => `ws://${address}`))
      : [fleet.urls.map((u) => u.replace(/^http/, 'ws'))];
    const plans: GeneratorPlan[] = Array.from({ length: shards }, (_, shard) => ({
      shard,
      shards,
      seed: options.seed,
      scenario: { ...scenario, phases },
      devices: devices.filter((d) => d.index % shards === shard),
      nodeUrls,
      secret: options.secret,
      workloadEndMs: settleAt,
      warmupMs,
      connectSpreadMs: Math.max(1, warmupMs / 2),
    }));
    await pool.start(plans);
    // The generators' first sample: ready, no client connected yet.
    sampler.sample();
    // The run's clock starts once every generator is ready (starting them can take seconds on a busy
    // machine), a moment ahead so the start message reaches them all before it.
    const originEpochMs = Date.now() + liveLimits.startLeadMs;
    const now = (): number => Date.now() - originEpochMs;
    pool.broadcast({ type: 'start', originEpochMs });
    await sleepUntil(originEpochMs);
    record({ k: 'phase', at: 0, phase: 'warmup' });

    // ---- phases, faults, membership changes --------------------------------------------------
    const faultLog: string[] = [];
    const note = (line: string): void => {
      const stamped = `${new Date().toISOString()} ${line}`;
      faultLog.push(stamped);
      log(stamped);
    };
    // Node faults name the node they touch by its welcome id, so checkers can tell what it held back.
    // A fault naming a node the target lacks was refused before the run (liveRefusal).
    const nodeIdAt = (index: number): string => {
      const id = nodeIds[index];
      if (id === undefined) throw new Error(`no node ${index}: the target has ${nodeIds.length}`);
      return id;
    };
    const noteFault = (spec: FaultSpec, phase: 'start' | 'heal'): void => {
      const node = spec.type === 'node-crash' || spec.type === 'node-pause' || spec.target === 'node';
      const nodes = spec.type === 'rolling-restart' ? nodeIds : node ? [nodeIdAt(spec.node ?? 0)] : undefined;
      const target = spec.type === 'partition' ? { target: spec.target ?? 'clients' } : {};
      record({ k: 'fault', at: now(), type: spec.type, phase, ...(nodes ? { nodes } : {}), ...target });
    };
    const heals: Promise<void>[] = [];
    /** Faults whose heal failed (after the network layer's retries). */
    const unhealed: string[] = [];
    const pendingHeals: (() => Promise<void>)[] = [];
    const timers: NodeJS.Timeout[] = [];
    // How late the latest timer fired: the timeline is kept only if every fault and phase fired on time.
    const lateness = { maxMs: 0, what: '' };
    const at = (ms: number, run: () => void, what?: string): void => {
      timers.push(
        setTimeout(
          () => {
            const late = now() - ms;
            if (what !== undefined && late > lateness.maxMs) Object.assign(lateness, { maxMs: late, what });
            run();
          },
          Math.max(0, ms - now()),
        ),
      );
    };
    faults.forEach((spec, n) => {
      at(
        faultsAt + spec.atMs,
        () => {
          const started = startLiveFault(spec, {
            fleet,
            pool,
            n,
            network,
            describe: (line) => note(`fault ${describeLiveFault(spec)}: ${line}`),
            step: (type, phase, index) => {
              const id = nodeIdAt(index);
              note(
                `fault ${describeLiveFault(spec)}: node ${index} (${id}) ${phase === 'start' ? 'draining' : 'ready again'}`,
              );
              record({ k: 'fault', at: now(), type, phase, nodes: [id] });
            },
          }).then(
            (heal) => {
              note(`fault ${describeLiveFault(spec)}: started`);
              noteFault(spec, 'start');
              let healed = false;
              const once = async (): Promise<void> => {
                if (healed) return;
                healed = true;
                try {
                  await heal();
                  noteFault(spec, 'heal');
                  if (spec.durationMs !== undefined) note(`fault ${describeLiveFault(spec)}: healed`);
                } catch (error) {
                  // The run goes on, but it no longer carries out the scenario: a verdict that depends on
                  // the heal (liveness, above all) is the harness's, not the server's. Said as could-not-judge.
                  const line = `fault ${describeLiveFault(spec)}: could not heal: ${(error as Error).message}`;
                  unhealed.push(line);
                  note(line);
                }
              };
              pendingHeals.push(once);
              const until =
                spec.durationMs === undefined ? 0 : Math.min(spec.durationMs, faultsMs - spec.atMs);
              at(faultsAt + spec.atMs + Math.max(0, until), () => heals.push(once()));
            },
            (error: Error) => note(`fault ${describeLiveFault(spec)}: could not start: ${error.message}`),
          );
          heals.push(started);
        },
        `fault ${describeLiveFault(spec)}`,
      );
    });
    const followRng = streams.stream('membership-follow');
    let memberFollows = 0;
    const membership = scheduleLiveMembership(scenario, streams, population, created, {
      api,
      pool,
      record,
      now,
      at,
      fromMs: warmupMs,
      untilMs: settleAt,
      tokenOf: (user) => tokens.of(user),
      ackedUpTo: (conv) => ackedUpTo.get(conv) ?? 0,
      follow: (conv, users, n, removed) => {
        const candidates = devices.filter((d) => d.adversary === undefined && users.includes(d.user));
        if (candidates.length === 0) return;
        // A member sends, in turn, from a device homed on the admin's node (the API's, node 0) and from
        // one on another: there the message may be sequenced before that node hears of the change.
        const onAdminNode = !removed && memberFollows++ % 2 === 1;
        const there = removed
          ? candidates
          : candidates.filter((d) => (d.home % fleet.urls.length === 0) === onAdminNode);
        const d = followRng.pick(there.length > 0 ? there : candidates);
        pool.sendTo(d.index % shards, { type: 'follow', conv, users: [...users], prefer: d.device, n });
      },
    });
    const httpReads = scheduleLiveHttpReads(scenario, streams, {
      urls: fleet.urls,
      tokens,
      record,
      now,
      at,
      fromMs: warmupMs,
      untilMs: settleAt,
      readers: devices.filter((d) => d.adversary === undefined).map((d) => d.user),
      convsOf: (user) => membership.convsOf(user),
    });
    const progressiveEveryMs = options.progressiveReadEveryMs ?? liveLimits.progressiveReadEveryMs;
    // Its own client: reads queue behind each other, not behind the membership changes' requests.
    const progressive = new ProgressiveReads({
      api: new AdminApi(fleet.urls[0]!, tokens.admin()),
      tokens,
      readers: () => membership.readers(),
      ackedUpTo,
      checkers,
      now,
      log,
    });
    if (progressiveEveryMs > 0) progressive.start(progressiveEveryMs);
    const phaseNow = { name: 'warmup' };
    at(
      faultsAt,
      () => {
        phaseNow.name = 'faults';
        record({ k: 'phase', at: now(), phase: 'faults' });
      },
      'the faults phase',
    );
    at(
      healAt,
      () => {
        phaseNow.name = 'heal';
        record({ k: 'phase', at: now(), phase: 'heal' });
        for (const heal of pendingHeals) heals.push(heal());
      },
      'the heal phase',
    );

    const failure = pool.failed.then((error) => {
      throw error;
    });
    const historyLag = { maxMs: 0, loggedAt: Number.NEGATIVE_INFINITY };
    const progressTimer = setInterval(() => {
      const lagMs = now() - pool.historyUpTo;
      if (Number.isFinite(lagMs) && lagMs > historyLag.maxMs) historyLag.maxMs = lagMs;
      if (lagMs > liveLimits.historyLagLogMs && now() - historyLag.loggedAt > liveLimits.historyLagLogMs) {
        historyLag.loggedAt = now();
        log(
          `the checkers are ${(lagMs / 1000).toFixed(1)} s behind the generators: their history reaches the driver late (a process short of CPU, the driver or a generator)`,
        );
      }
      options.recorder?.tick(now(), 0);
      options.progress?.(now() / endMs, phaseNow.name, checkersViolations(checkers));
    }, 1000);
    // The final read's files (spilled-store.ts), removed however the run ends.
    const finalFiles: { store: SpilledStore | null } = { store: null };
    try {
      await Promise.race([sleepUntil(originEpochMs + settleAt), failure]);
      await Promise.race([Promise.all(heals), failure]);
      await membership.idle();
      await httpReads.idle();
      progressive.stop();
      phaseNow.name = 'settle';
      record({ k: 'phase', at: now(), phase: 'settle' });
      pool.broadcast({ type: 'settle' });

      // ---- settle: quiet generators, then the final read, then every device caught up ----------
      const readers = membership.readers();
      // A server that stops answering reads is a finding of the run, not a problem of the invocation.
      let readError: string | null = null;
      const readBack = async () => {
        const startedAt = now();
        const done = await finalRead(api, tokens, readers).catch((error: Error) => {
          readError = error.message;
          return { store: new SpilledStore(), requests: 0, uncovered: [...readers.keys()] };
        });
        finalFiles.store = done.store;
        return { ...done, startedAt };
      };
      let processes: ProcessFigures[] = [];
      let stoppedEarly: GeneratorReport[] | null = null;
      const stopGenerators = async (): Promise<GeneratorReport[]> => {
        processes = sampler.stop();
        return pool.finish(options.finishStaggerMs);
      };
      const settled = await settle({
        now,
        endMs,
        pause: () => Promise.race([sleep(liveLimits.settleCheckEveryMs), failure]),
        status: (read) => {
          const spans = membership.spansForShards();
          const lastSeq = read === null ? undefined : lastSeqOf(read.store);
          return pool.status({ ...(lastSeq ? { lastSeq } : {}), ...(spans ? { spans } : {}) });
        },
        read: readBack,
        discard: (read) => read.store.close(),
        stopGenerators: async () => {
          stoppedEarly = await stopGenerators();
        },
      });
      const { settledAt, read: stored } = settled;
      let lastStatus = settled.lastStatus;
      if (settledAt === null) {
        const s = lastStatus;
        const sum = (f: (x: ShardStatus) => number) => s.reduce((a, x) => a + f(x), 0);
        log(
          `did not settle: ${sum((x) => x.open)}/${sum((x) => x.devices)} devices open, ${sum((x) => x.outbox)} unacked sends, ${sum((x) => x.behind)} (device, conv) behind${s.find((x) => x.firstBehind)?.firstBehind ? ` (e.g. ${s.find((x) => x.firstBehind)!.firstBehind})` : ''}; the servers were read once the generators had stopped`,
        );
      }
      for (const t of timers) clearTimeout(t);
      // Adversarial attempts made before settle get their outcome (an answer, a close, a timeout as
      // unanswered, or for cursors the next welcome) before the generators stop, so none is left
      // pending by the run ending first. On a loaded machine a cursor attempt's reconnect can take
      // longer than any fixed wait: ask the generators until none is pending, within a bound.
      if (adversaries.length > 0 && settledAt !== null) {
        const attemptsEndMs = now() + liveLimits.attemptsSettleMaxMs;
        while (now() < attemptsEndMs) {
          lastStatus = await pool.status();
          if (lastStatus.every((s) => s.attemptsPending === 0)) break;
          await Promise.race([sleep(liveLimits.settleCheckEveryMs), failure]);
        }
      }
      // Under load what the server owes (receipts above all) falls due seconds after settle: the sessions
      // stay open, and keep hearing the server's pings, until the checkers can judge it, within a bound.
      let held: Held | null = null;
      const holdMaxMs = options.holdOwedMaxMs ?? liveLimits.holdOwedMaxMs;
      if (settledAt !== null) {
        phaseNow.name = 'hold';
        held = await holdForOwed({
          now,
          maxMs: holdMaxMs,
          pause: () => Promise.race([sleep(liveLimits.settleCheckEveryMs), failure]),
          owed: () => checkersOwed(checkers),
          seenUpTo: () => pool.historyUpTo,
        });
        const line = describeHeld(held, holdMaxMs);
        if (line !== null) log(line);
      }
      const reports = stoppedEarly ?? (await stopGenerators());
      // The cursors the server holds, read as a black box after settle (judged by cursor-monotonicity).
      const cursorReads = await finalCursorRead(api, tokens, currentMembers(membership), record, now);
      record({ k: 'phase', at: settledAt ?? now(), phase: 'final' });

      // ---- judge -------------------------------------------------------------------------------
      const online = new Set(reports.flatMap((r) => r.online));
      const left = new Set(reports.flatMap((r) => r.left));
      const present = devices.filter((d) => d.adversary === undefined && !left.has(d.device));
      const final: FinalState = {
        ...liveFinalState(stored, present, online, settledAt ?? now(), settledAt),
        ...(held === null ? {} : { heldUntil: held.until }),
      };
      const verdicts = [
        ...checkers.map((checker) => checker.finish(final)),
        ...(options.checkers ? [] : skippedVerdicts(scenario)),
      ];
      if (readError !== null)
        verdicts.push({
          property: 'final-read',
          verdict: 'fail',
          details: `the servers did not answer the final read over HTTP, so nothing acked can be shown durable: ${readError}`,
          witness: [{ problem: readError }],
        });
      // Every ack is in the history now (the generators have sent their reports).
      const readOrder = finalReadOrder(lastAckAt, stored.startedAt);
      if (readOrder !== null) verdicts.push(readOrder);
      if (unhealed.length > 0)
        verdicts.push({
          property: 'fault-schedule',
          verdict: 'unknown',
          details: `could not judge: ${unhealed[0]}${unhealed.length > 1 ? ` (and ${unhealed.length - 1} more)` : ''}; the fault stayed, so the run did not carry out the scenario's timeline`,
          witness: unhealed.map((problem) => ({ problem })),
        });
      if (lateness.maxMs > liveLimits.scheduleLateMaxMs)
        verdicts.push({
          property: 'fault-schedule',
          verdict: 'unknown',
          details: `could not judge: ${lateness.what} began ${Math.round(lateness.maxMs)} ms late (limit ${liveLimits.scheduleLateMaxMs} ms), so the run did not carry out the scenario's timeline; the driver was starved of CPU`,
          witness: [{ problem: `${lateness.what} began ${Math.round(lateness.maxMs)} ms late` }],
        });
      const latency = mergeLatency(reports);
      const ackP99 = latency.ack.p99;
      const ackMerged = new LatencyHistogram();
      for (const r of reports) ackMerged.merge(r.latency.ack);
      const { slo, exitCode } = judgeRun(scenario, verdicts, settledAt, {
        ackLatency: latencySource(ackMerged),
        ...(fanoutLag ? { fanoutLag: latencySource(fanoutLag.histogram()) } : {}),
        ...(repeatedPushes ? { repeatedPushes: repeatedPushes.source() } : {}),
        failedSends: failedSends.source(),
      });
      const cpuMax = Math.max(0, ...reports.map((r) => r.stats.cpuShare));
      const loopDelayMax = Math.max(0, ...reports.map((r) => r.stats.loopDelayMsMax));
      const cpuPressure = cpuPressureShare(
        pressureAtStart,
        readCpuPressureUs(),
        performance.now() - wallStart,
      );
      return {
        scenario: scenario.name,
        seed: options.seed,
        traceHash: 'live',
        traceCheckpoints: [],
        traceCheckpointEvery: 0,
        clients: devices.length,
        events,
        virtualMs: Math.round(now()),
        wallMs: Math.round(performance.now() - wallStart),
        messages: counts,
        ackLatencyMsP50: latency.ack.p50,
        ackLatencyMsP99: ackP99,
        settledAtMs: settledAt === null ? null : Math.round(settledAt),
        verdicts,
        slo,
        exitCode,
        derived: { faults, bugs: [...(options.bugs ?? [])] },
        live: {
          target: fleet.reproFlags,
          generators: shards,
          generatorCpuShareMax: cpuMax,
          generatorRssBytesMax: Math.max(0, ...reports.map((r) => r.stats.rssBytes)),
          generatorHeapBytesMax: Math.max(0, ...reports.map((r) => r.stats.heapUsedBytes)),
          generatorLoopDelayMsMax: loopDelayMax,
          historyLagMsMax: historyLag.maxMs,
          loadLimited: loadLimitedBy(cpuMax, loopDelayMax, cpuPressure) !== null,
          cpuPressure,
          connects: reports.reduce((a, r) => a + r.stats.connects, 0),
          connectFailures: reports.reduce((a, r) => a + r.stats.connectFailures, 0),
          abandonedConnects: reports.reduce((a, r) => a + r.stats.abandonedConnects, 0),
          connectsWaited: reports.reduce((a, r) => a + r.stats.connectsWaited, 0),
          connectsInFlightMax: Math.max(0, ...reports.map((r) => r.stats.connectsInFlightMax)),
          closedInHello: sumCounts(reports.map((r) => r.stats.closedInHello)),
          malformedFrames: reports.reduce((a, r) => a + r.malformedFrames, 0),
          connectRate: {
            welcomed: firstSessions.welcomed,
            perSec:
              firstSessions.welcomed === 0 || firstSessions.lastAt <= firstSessions.firstAttemptAt
                ? 0
                : firstSessions.welcomed / ((firstSessions.lastAt - firstSessions.firstAttemptAt) / 1000),
          },
          filesMax,
          processes,
          latencyMs: latency,
          finalRead: {
            conversations: stored.store.size,
            requests: stored.requests,
            uncovered: stored.uncovered,
            cursorRequests: cursorReads,
          },
          progressiveRead: progressive.facts,
          held: held === null ? null : { ...held, maxMs: holdMaxMs },
          faultLog,
        },
      };
    } finally {
      finalFiles.store?.close();
      progressive.stop();
      clearInterval(progressTimer);
      for (const t of timers) clearTimeout(t);
    }
  } finally {
    sampler.stop();
    pool.kill();
    await network?.stop();
    await fleet.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function sumCounts(counts: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c)) out[k] = (out[k] ?? 0) + n;
  return out;
}

function lastSeqOf(store: SpilledStore): Record<string, number> {
  const out: Record<string, number> = {};
  for (const conv of store.conversations()) out[conv] = store.lastSeq(conv);
  return out;
}

/** conv -> its current members, by the harness's own record of the membership changes it made. */
function currentMembers(membership: LiveMembership): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const conv of membership.readers().keys()) {
    const spans = membership.spans(conv);
    members.set(
      conv,
      [...spans].flatMap(([user, list]) => (list[list.length - 1]?.to === null ? [user] : [])),
    );
  }
  return members;
}

function liveFinalState(
  read: Awaited<ReturnType<typeof finalRead>>,
  devices: readonly PlannedDevice[],
  online: ReadonlySet<string>,
  at: number,
  settledAt: number | null,
): FinalState {
  return {
    at,
    devices: devices.map((d): DeviceRef => ({ user: d.user, device: d.device })),
    conversations: () => read.store.conversations(),
    storedMessage: (conv, seq) => read.store.message(conv, seq),
    storedLastSeq: (conv) => read.store.lastSeq(conv),
    online: (user) => online.has(user),
    settledAt,
  };
}

function mergeLatency(reports: readonly GeneratorReport[]): LiveFacts['latencyMs'] {
  const quantiles = (pick: (r: GeneratorReport) => GeneratorReport['latency']['ack']): Quantiles => {
    const merged = new LatencyHistogram();
    for (const r of reports) merged.merge(pick(r));
    return {
      count: merged.total,
      p50: merged.percentileMs(50),
      p99: merged.percentileMs(99),
      p999: merged.percentileMs(99.9),
      max: merged.maxUs / 1000,
    };
  };
  return {
    ack: quantiles((r) => r.latency.ack),
    deliveryDirect: quantiles((r) => r.latency.deliveryDirect),
    deliveryGroup: quantiles((r) => r.latency.deliveryGroup),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepUntil(epochMs: number): Promise<void> {
  return sleep(Math.max(0, epochMs - Date.now()));
}
