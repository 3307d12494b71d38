// What the driver and its generator processes say to each other over IPC. Plain JSON values: a plan
// at start, commands (phase changes, faults, membership), queries about settling, and in the other
// direction batches of history events (one JSON string per batch, cheap to pass) and a final report.

import type { HistogramSnapshot } from '../../bench/latency-histogram.ts';
import type { Scenario } from '../../scenarios/scenario.ts';

export type PlannedDevice = {
  /** Index of the device in the whole run (the seed streams of the simulator use the same index). */
  index: number;
  user: string;
  device: string;
  home: number;
  /** Dials only its home node: no failover while that node is down (`clients.pinnedFraction`). */
  pinned?: boolean;
  convs: readonly string[];
  /** Adversarial behaviours (empty for honest clients). */
  adversary?: { behaviours: string[]; foreignConvs: string[]; forged: boolean };
};

export type GeneratorPlan = {
  shard: number;
  shards: number;
  seed: number;
  scenario: Scenario;
  devices: PlannedDevice[];
  /**
   * ws://host:port per client group and node: `nodeUrls[device.index % groups][node]`. One group
   * (the nodes themselves) without a network layer; with Toxiproxy, each group has its own proxies.
   */
  nodeUrls: string[][];
  secret: string;
  /** Workload arrivals stop here (the settle phase begins). */
  workloadEndMs: number;
  /** Sends scheduled before this are not counted in latency figures (clients still connecting). */
  warmupMs: number;
  /** Connects of the shard are spread over [0, connectSpreadMs). */
  connectSpreadMs: number;
};

export type LatencyReport = {
  ack: HistogramSnapshot;
  /** End-to-end: scheduled send time to display on another device, by conversation kind. */
  deliveryDirect: HistogramSnapshot;
  deliveryGroup: HistogramSnapshot;
};

export type ShardStatus = {
  shard: number;
  /** Honest, present devices, and how many of them are connected with a session open. */
  devices: number;
  open: number;
  outbox: number;
  /** (device, conv) pairs displayed below the known or target lastSeq. */
  behind: number;
  firstBehind: string | null;
  /** Adversarial attempts made before this shard heard of settle that have no outcome yet (0 before settle). */
  attemptsPending: number;
  connects: number;
  connectFailures: number;
  /**
   * Attempts the client gave up before the WebSocket opened (its connect timeout): under load the
   * spiral of a connect ramp, each retry a full connect again (the 100,000 runs, docs/benchmarks.md).
   */
  abandonedConnects: number;
  /** Connects that waited for a slot (liveLimits.connectsInFlightMax, connect-gate.ts) before being dialed. */
  connectsWaited: number;
  /** The most connects the generator had in flight at once. */
  connectsInFlightMax: number;
  /** Connections closed by the server (close code, or 'reset') after the WebSocket opened, before a welcome. */
  closedInHello: Record<string, number>;
  cpuShare: number;
  /** The most the process held so far (sampled every memorySampleMs): resident set and JS heap in use. */
  rssBytes: number;
  heapUsedBytes: number;
  /** The longest the generator's event loop was blocked so far (ms): its timers and reads ran that late. */
  loopDelayMsMax: number;
};

export type ToGenerator =
  | { type: 'plan'; plan: GeneratorPlan }
  /** Every `at` of the run is ms since `originEpochMs` (wall clock), set once all generators are ready. */
  | { type: 'start'; originEpochMs: number }
  | { type: 'settle' }
  | { type: 'members'; conv: string; add: string[]; remove: string[] }
  /** `workload.sendAfterMembershipChange`: `prefer` (a device of this shard) or another of `users`' sends to conv now. */
  | { type: 'follow'; conv: string; users: string[]; prefer: string; n: number }
  /** Some clients' connections reset at once (reconnect storm, reset_peer): `pick` in 0..1 per client. */
  | { type: 'drop'; fraction: number; fault: number; reset?: boolean }
  | {
      type: 'status';
      id: number;
      /** conv -> lastSeq of the final read; absent: judge against what the devices know. */
      lastSeq?: Record<string, number>;
      /** conv -> user -> spans, for conversations whose membership changed. */
      spans?: Record<string, Record<string, { from: number; to: number | null }[]>>;
    }
  /** Stop recording and report; the sockets stay open. */
  | { type: 'finish' }
  /** Every generator has reported: close the sockets and exit. */
  | { type: 'close' };

export type FromGenerator =
  | { type: 'ready' }
  /** History events, as a JSON array; no event the generator records later is earlier than `upTo` (null: no promise yet). */
  | { type: 'events'; json: string; upTo: number | null }
  | { type: 'status'; id: number; status: ShardStatus }
  | {
      type: 'report';
      latency: LatencyReport;
      /** Users with a live session at the end. */
      online: string[];
      /** Devices that left for good at settle (not judged for delivery). */
      left: string[];
      stats: ShardStatus;
      malformedFrames: number;
    }
  | { type: 'failed'; message: string };
