// One generator's share of the virtual clients: the simulator's sans-I/O VirtualClient, unchanged,
// carried over real `ws` connections. Effects become sockets, frames and timers on a wheel; the
// open-model workload, churn and watches of this shard come from the run's seed; every history event
// is batched to the driver. Latency is measured from each send's scheduled time, not from when the
// generator got round to it, so a slow server (or a busy generator) cannot hide (coordinated omission).

import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { LatencyHistogram } from '../../bench/latency-histogram.ts';
import { partnerOf, userLeaves, watchedUsers } from '../behaviours.ts';
import { ClientTimes } from '../client/client-times.ts';
import type { AdversaryBehaviour } from '../client/limits.ts';
import { type ClientEffect, VirtualClient } from '../client/virtual-client.ts';
import { decodeServerFrame, encodeClientFrame } from '../client/wire.ts';
import type { HistoryEvent } from '../history.ts';
import { SeedStreams } from '../kernel/prng.ts';
import { type PressStep, pressPlan, sendLimitsOf } from '../press.ts';
import {
  clientConfigsByUser,
  type ScenarioClientConfig,
  scenarioClientConfig,
} from '../scenario-client-config.ts';
import { arrivals, paddedBody } from '../workload.ts';
import { ConnectGate } from './connect-gate.ts';
import type { FromGenerator, GeneratorPlan, PlannedDevice, ShardStatus } from './generator-messages.ts';
import { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';
import { PressWatch } from './press-watch.ts';
import { TimerWheel } from './timer-wheel.ts';

type Agenda = { at: number; run: () => void }[];

export class LiveShard {
  /** Wall-clock origin of the run (set by `start`): every `at` is ms since it. */
  private originEpochMs = Number.NaN;
  private readonly clients: VirtualClient[] = [];
  private readonly sockets: (WebSocket | null)[] = [];
  private readonly opened: boolean[] = [];
  private readonly nodeTurn: number[] = [];
  private readonly left: boolean[] = [];
  private readonly convsOf: string[][] = [];
  /** `conv\0user` of users removed from a conversation (the app stops writing there). */
  private readonly removed = new Set<string>();
  private readonly wheel: TimerWheel;
  private readonly streams: SeedStreams;
  private readonly tokens: TokenCache;
  /** The clients' connection times, a row by local index (client-times.ts). */
  private readonly clientTimes = new ClientTimes();
  private readonly honest: number[] = [];
  /** The adversaries' devices: their attempts from before settle must get an outcome before the end. */
  private readonly adversaries: number[] = [];
  /** `finish` came: the shard's history has ended (its report is sent); nothing after it counts. */
  private stopped = false;
  /** When this shard heard the settle phase begin (null: not yet). */
  private settleAt: number | null = null;
  private agenda: Agenda = [];
  private agendaNext = 0;
  /** Pressers whose press a fault cut off (press-watch.ts): device -> when to press again. */
  private readonly pressAgainAt = new Map<string, number>();
  private pressWatch: PressWatch | null = null;
  private pressSteps = new Map<string, PressStep>();
  private events: HistoryEvent[] = [];
  private tick: NodeJS.Timeout | null = null;
  private tickQueued = false;
  private readonly onTickAfterReads = (): void => {
    this.tickQueued = false;
    if (this.tick === null) return;
    const now = this.now();
    // A tick this late: the loop stalled (the process starved of a core, a long GC), so silence
    // heard meanwhile may be this process's own (press-watch.ts).
    if (now - this.lastTickAt > liveLimits.generatorStallLoadLimitedMs) this.stalledAt = now;
    this.lastTickAt = now;
    this.onTick();
  };
  private lastTickAt = Number.POSITIVE_INFINITY;
  /** When the loop was last seen stalled (run clock). */
  private stalledAt = Number.NEGATIVE_INFINITY;
  private flushTimer: NodeJS.Timeout | null = null;
  private memoryTimer: NodeJS.Timeout | null = null;
  /** Peaks of the process's memory, sampled while the run goes on. */
  private rssMax = 0;
  private heapUsedMax = 0;
  private nextArrival: number | null = null;
  private arrivalSource: ReturnType<typeof arrivals> | null = null;
  private readonly workRng;
  private sendNumber = 0;
  private attempts = 0;
  /** The scheduled time of the send being issued right now (read by `record`). */
  private scheduling = Number.NaN;
  private readonly scheduledAt = new Map<string, number>();
  private readonly ackLatency = new LatencyHistogram();
  private readonly deliveryDirect = new LatencyHistogram();
  private readonly deliveryGroup = new LatencyHistogram();
  private connects = 0;
  private connectFailures = 0;
  /** Connections the server closed after the WebSocket opened and before a welcome, by close code. */
  private readonly closedInHello: Record<string, number> = {};
  private abandonedConnects = 0;
  /** Connects in flight (dialed, not yet welcomed or closed) are bounded; the rest wait their turn. */
  private readonly gate: ConnectGate;
  malformedFrames = 0;
  /** How late the event loop ran (a blocked loop reads pings and fires idle checks late). */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: liveLimits.loopDelayResolutionMs });
  private readonly cpuStart = process.cpuUsage();
  private readonly wallStart = performance.now();

  constructor(
    private readonly plan: GeneratorPlan,
    private readonly send: (message: FromGenerator) => void,
  ) {
    this.streams = new SeedStreams(plan.seed);
    this.tokens = new TokenCache(plan.secret, liveLimits.tokenLifeSec);
    this.wheel = new TimerWheel(liveLimits.timerTickMs, 0);
    this.workRng = this.streams.stream('live-workload', plan.shard);
    this.gate = new ConnectGate(liveLimits.connectsInFlightMax, plan.devices.length, (i) => this.dial(i));
    const configs = clientConfigsByUser(plan.scenario, plan.seed, scenarioClientConfig(plan.scenario));
    for (const [local, device] of plan.devices.entries()) {
      this.clients.push(this.makeClient(local, device, configs.of(device.user)));
      this.sockets.push(null);
      this.opened.push(false);
      this.nodeTurn.push(0);
      this.left.push(false);
      // The plan's own list until a membership change adds to it (then a copy): one array per device.
      this.convsOf.push(device.convs as string[]);
      if (device.adversary === undefined) this.honest.push(local);
      else this.adversaries.push(local);
    }
  }

  now(): number {
    return performance.timeOrigin + performance.now() - this.originEpochMs;
  }

  start(originEpochMs: number): void {
    this.originEpochMs = originEpochMs;
    const { scenario, connectSpreadMs, workloadEndMs, shard } = this.plan;
    const startRng = this.streams.stream('live-start', shard);
    // Pressers connect first: a press must be answered before the first fault (which ends what the
    // rate-limit checker can judge of it), however long real connects take on a loaded machine.
    const pressers = this.schedulePresses();
    for (let i = 0; i < this.clients.length; i++) {
      const drawn = Math.floor(startRng.float() * Math.max(1, connectSpreadMs));
      const at = pressers.has(i) ? 0 : drawn;
      this.later(at, () => this.apply(i, this.clients[i]!.start(this.now())));
    }
    this.scheduleWatches();
    this.scheduleChurn();
    this.agenda.sort((a, b) => a.at - b.at);
    this.arrivalSource = arrivals(scenario, this.honest.length, this.workRng, workloadEndMs);
    this.nextArrival = this.arrivalSource.next(0);
    // The tick runs after the loop has read the sockets that are ready: a timer callback runs before the
    // poll phase, so after the loop was blocked (GC, a burst, a starved CPU) a client's idle check would
    // otherwise judge "nothing heard" with the server's pings still unread in the kernel's buffers, and
    // cut a healthy connection (then its reconnect adds to the load that blocked the loop).
    this.tick = setInterval(() => {
      if (this.tickQueued) return;
      this.tickQueued = true;
      setImmediate(this.onTickAfterReads);
    }, liveLimits.timerTickMs);
    this.flushTimer = setInterval(() => this.flush(), liveLimits.eventFlushMs);
    this.memoryTimer = setInterval(() => this.sampleMemory(), liveLimits.memorySampleMs);
    this.loopDelay.enable();
  }

  private sampleMemory(): void {
    const { rss, heapUsed } = process.memoryUsage();
    this.rssMax = Math.max(this.rssMax, rss);
    this.heapUsedMax = Math.max(this.heapUsedMax, heapUsed);
  }

  /** Settle: no new sends; everyone comes back except the leavers, who go for good. */
  settle(): void {
    this.nextArrival = null;
    const now = this.now();
    this.settleAt = now;
    for (const i of this.honest) {
      const client = this.clients[i]!;
      const leaves = userLeaves(client.user, this.plan.scenario.workload.leaveFraction, this.plan.seed);
      this.left[i] = leaves;
      this.apply(i, leaves ? client.goOffline(now) : client.goOnline(now));
    }
  }

  members(conv: string, add: string[], remove: string[]): void {
    for (const user of remove) this.removed.add(`${conv}\u0000${user}`);
    for (const user of add) {
      this.removed.delete(`${conv}\u0000${user}`);
      for (const [i, device] of this.plan.devices.entries()) {
        if (device.user !== user) continue;
        if (!this.convsOf[i]!.includes(conv)) this.convsOf[i] = [...this.convsOf[i]!, conv];
        const client = this.clients[i];
        if (client !== undefined) this.apply(i, client.openConversation(conv, this.now()));
      }
    }
  }

  /**
   * Right after a membership change (`workload.sendAfterMembershipChange`): the device `prefer`, or if
   * it cannot send now another of this shard's devices of `users` that can, sends to conv at once,
   * whether or not its app has heard of the change (a removed user's send must be refused).
   */
  follow(conv: string, users: readonly string[], prefer: string, n: number): void {
    const can = (i: number): boolean => !this.left[i] && this.clients[i]!.canSend();
    const ofUsers = this.honest.filter((i) => users.includes(this.clients[i]!.user) && can(i));
    const i = ofUsers.find((j) => this.clients[j]!.device === prefer) ?? ofUsers[0];
    if (i === undefined) return;
    const client = this.clients[i]!;
    this.apply(i, client.sendMessage(conv, `${client.device}.after-change.${n}`, this.now()));
  }

  /**
   * Drops the connections of a share of clients at once; they reconnect with their own backoff.
   * `reset`: a TCP RST (Toxiproxy's reset_peer), else the socket is destroyed (a storm's mass drop).
   */
  drop(fraction: number, fault: number, reset: boolean): void {
    const rng = this.streams.stream(`live-fault-${fault}`, this.plan.shard);
    for (let i = 0; i < this.clients.length; i++) {
      if (!(rng.float() < fraction)) continue;
      const ws = this.sockets[i];
      if (ws === null || ws === undefined) continue;
      const socket = (ws as unknown as { _socket?: Socket | null })._socket;
      if (reset && socket) socket.resetAndDestroy();
      else ws.terminate();
    }
  }

  status(
    lastSeq?: Record<string, number>,
    spans?: Record<string, Record<string, { from: number; to: number | null }[]>>,
  ): ShardStatus {
    this.sampleMemory();
    let devices = 0;
    let open = 0;
    let outbox = 0;
    let behind = 0;
    let firstBehind: string | null = null;
    for (const i of this.honest) {
      if (this.left[i]) continue;
      devices++;
      const client = this.clients[i]!;
      if (client.connectionState === 'open' && !client.isDraining && this.sockets[i] !== null) open++;
      outbox += client.outboxSize;
      const user = client.user;
      if (lastSeq === undefined) {
        for (const view of client.views())
          if (view.displayedUpTo < view.knownLastSeq) {
            behind++;
            firstBehind ??= `${client.device} ${view.conv} displayed ${view.displayedUpTo} of known ${view.knownLastSeq}`;
          }
        continue;
      }
      for (const conv of this.convsOf[i]!) {
        const list = spans?.[conv]?.[user] ?? [{ from: 1, to: null }];
        const last = list[list.length - 1];
        if (last === undefined) continue;
        const newest = lastSeq[conv] ?? 0;
        const end = last.to === null ? newest : Math.min(last.to, newest);
        if (end >= last.from && client.displayedUpTo(conv) < end) {
          behind++;
          firstBehind ??= `${client.device} ${conv} displayed ${client.displayedUpTo(conv)} of ${end}`;
        }
      }
    }
    let attemptsPending = 0;
    if (this.settleAt !== null)
      for (const i of this.adversaries)
        attemptsPending += this.clients[i]!.attemptsPendingBefore(this.settleAt);
    const cpu = process.cpuUsage(this.cpuStart);
    const wallMs = performance.now() - this.wallStart;
    return {
      shard: this.plan.shard,
      devices,
      open,
      outbox,
      behind,
      firstBehind,
      attemptsPending,
      connects: this.connects,
      connectFailures: this.connectFailures,
      abandonedConnects: this.abandonedConnects,
      connectsWaited: this.gate.waited,
      connectsInFlightMax: this.gate.heldMax,
      closedInHello: { ...this.closedInHello },
      cpuShare: wallMs > 0 ? (cpu.user + cpu.system) / 1000 / wallMs : 0,
      rssBytes: this.rssMax,
      heapUsedBytes: this.heapUsedMax,
      loopDelayMsMax: this.loopDelay.max / 1e6,
    };
  }

  /**
   * Stops recording: no timer fires, no frame or close is read, no event is kept, and the final report
   * is returned. The open sessions stay open (`close` closes them once every shard has stopped): a
   * session this shard closed while another still records would show that shard's watchers a change
   * the harness caused (a user gone offline), judged as the server's (staggered-stop test).
   */
  finish(): FromGenerator {
    this.stopped = true;
    if (this.tick) clearInterval(this.tick);
    this.tick = null;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.sampleMemory();
    this.loopDelay.disable();
    const stats = this.status();
    // A user is online at the end while a session of it is open, and the sockets left open are exactly
    // those: one still connecting or saying hello goes now, so the server cannot welcome it (and tell
    // the shards still recording that its user came online) after this report said otherwise.
    const online = new Set<string>();
    for (let i = 0; i < this.clients.length; i++) {
      const client = this.clients[i]!;
      const ws = this.sockets[i];
      if (ws === null || ws === undefined) continue;
      if (client.connectionState === 'open') online.add(client.user);
      else {
        this.sockets[i] = null;
        ws.terminate();
      }
    }
    this.flush();
    return {
      type: 'report',
      latency: {
        ack: this.ackLatency.snapshot(),
        deliveryDirect: this.deliveryDirect.snapshot(),
        deliveryGroup: this.deliveryGroup.snapshot(),
      },
      online: [...online],
      left: this.honest.filter((i) => this.left[i]).map((i) => this.plan.devices[i]!.device),
      stats,
      malformedFrames: this.malformedFrames,
    };
  }

  /** Every shard has stopped recording (`finish`): the sockets can go. */
  close(): void {
    for (const ws of this.sockets) ws?.terminate();
  }

  /** Whether what `ws`, client `i`'s socket, says still counts: the current socket, and not stopped. */
  private hears(i: number, ws: WebSocket): boolean {
    return !this.stopped && this.sockets[i] === ws;
  }

  // ---- the loop -----------------------------------------------------------------------------

  private onTick(): void {
    const now = this.now();
    if (this.pressAgainAt.size > 0) this.pressesAgain(now);
    while (this.agendaNext < this.agenda.length && this.agenda[this.agendaNext]!.at <= now)
      this.agenda[this.agendaNext++]!.run();
    if (this.agendaNext === this.agenda.length && this.agenda.length > 0) {
      this.agenda = [];
      this.agendaNext = 0;
    }
    while (this.nextArrival !== null && this.nextArrival <= now) {
      const scheduled = this.nextArrival;
      this.arrive(scheduled);
      this.nextArrival = this.arrivalSource?.next(scheduled) ?? null;
    }
    this.wheel.due(now, (entry) => {
      const i = entry.client;
      // A connect still waiting for a slot has not been dialed: its connect timeout has not begun.
      if (this.gate.isWaiting(i)) this.apply(i, this.clients[i]!.dialing(this.now()));
      this.apply(i, this.clients[i]!.timer(entry.kind as never, entry.key, this.now()));
    });
  }

  private later(at: number, run: () => void): void {
    this.agenda.push({ at, run });
  }

  private arrive(scheduled: number): void {
    const honest = this.honest;
    if (honest.length === 0) return;
    const rng = this.workRng;
    const i = honest[rng.int(honest.length)]!;
    const convs = this.convsOf[i]!;
    if (convs.length === 0) return;
    const conv = convs[rng.int(convs.length)]!;
    const client = this.clients[i]!;
    if (this.removed.has(`${conv}\u0000${client.user}`)) return;
    const now = this.now();
    const { workload } = this.plan.scenario;
    if (rng.chance(workload.typingProbability)) this.apply(i, client.setTyping(conv, true, now));
    // The scheduled time rides in the body, so the receiving generator measures end-to-end delivery.
    const body = paddedBody(
      `${client.device}#${this.sendNumber++}@${scheduled.toFixed(1)}`,
      workload.bodyBytes,
      workload.largeBodyShare,
    );
    this.scheduling = scheduled;
    this.apply(i, client.sendMessage(conv, body, now));
    this.scheduling = Number.NaN;
    if (rng.chance(workload.readProbability)) {
      const reader = honest[rng.int(honest.length)]!;
      const readerConvs = this.convsOf[reader]!;
      if (readerConvs.length > 0)
        this.apply(reader, this.clients[reader]!.markRead(readerConvs[rng.int(readerConvs.length)]!, now));
    }
  }

  // ---- effects ------------------------------------------------------------------------------

  private apply(i: number, effects: readonly ClientEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'timer':
          this.wheel.add(effect.at, { client: i, kind: effect.kind, key: effect.key });
          break;
        case 'frame': {
          const ws = this.sockets[i];
          if (ws && ws.readyState === WebSocket.OPEN) ws.send(encodeClientFrame(effect.frame));
          break;
        }
        case 'text': {
          const ws = this.sockets[i];
          if (ws && ws.readyState === WebSocket.OPEN) ws.send(effect.text);
          break;
        }
        case 'binary': {
          const ws = this.sockets[i];
          if (ws && ws.readyState === WebSocket.OPEN) ws.send(effect.bytes, { binary: true });
          break;
        }
        case 'connect':
          this.connect(i);
          break;
        case 'close': {
          const ws = this.sockets[i];
          this.sockets[i] = null;
          this.gate.release(i);
          if (ws) {
            if (ws.readyState === WebSocket.OPEN) ws.close(1000);
            else {
              if (ws.readyState === WebSocket.CONNECTING) this.abandonedConnects++;
              ws.terminate();
            }
          }
          break;
        }
      }
    }
  }

  private connect(i: number): void {
    const old = this.sockets[i];
    this.sockets[i] = null;
    if (old) old.terminate();
    this.gate.request(i);
  }

  /** Opens client `i`'s socket: its turn came (connect-gate.ts). */
  private dial(i: number): void {
    const client = this.clients[i]!;
    // Dialed later than asked (it waited for a slot): the connect timeout counts from now.
    this.apply(i, client.dialing(this.now()));
    const device = this.plan.devices[i]!;
    const urls = this.plan.nodeUrls[device.index % this.plan.nodeUrls.length]!;
    const url = urls[(device.home + this.nodeTurn[i]!) % urls.length]!;
    this.connects++;
    const ws = new WebSocket(`${url}/v1/ws`, { perMessageDeflate: false });
    this.sockets[i] = ws;
    this.opened[i] = false;
    ws.on('open', () => {
      if (!this.hears(i, ws)) return;
      this.opened[i] = true;
      this.apply(i, this.clients[i]!.connected(this.now()));
    });
    ws.on('message', (data: Buffer) => {
      if (!this.hears(i, ws)) return;
      const frame = decodeServerFrame(data.toString('utf8'));
      if (frame === null) {
        this.malformedFrames++;
        return;
      }
      const client = this.clients[i]!;
      this.apply(i, client.received(frame, this.now()));
      // Welcomed: this connect is done, the next one waiting may go.
      if (client.connectionState === 'open') this.gate.release(i);
    });
    ws.on('ping', () => {
      if (!this.hears(i, ws)) return;
      const client = this.clients[i]!;
      const now = this.now();
      client.heard(now);
      // In order with the frames before it (one connection): reach judgements hear the server by it.
      if (client.connectionState === 'open')
        this.record({ k: 'ping', at: now, user: client.user, device: client.device });
    });
    ws.on('close', (code: number) => {
      if (!this.hears(i, ws)) return;
      this.sockets[i] = null;
      this.gate.release(i);
      if (!this.opened[i]) {
        // Not even a WebSocket: try the next node next time (a load balancer's failover), unless
        // the device is pinned to its home node.
        this.connectFailures++;
        if (!this.plan.devices[i]!.pinned) this.nodeTurn[i]!++;
      }
      const reset = code === 1005 || code === 1006;
      if (this.opened[i] && this.clients[i]!.connectionState === 'hello') {
        const reason = reset ? 'reset' : String(code);
        this.closedInHello[reason] = (this.closedInHello[reason] ?? 0) + 1;
      }
      this.apply(i, this.clients[i]!.disconnected(reset ? null : code, this.now()));
    });
    ws.on('error', () => {
      // 'close' follows.
    });
  }

  // ---- recording ----------------------------------------------------------------------------

  private readonly recordEvent = (event: HistoryEvent): void => this.record(event);

  private record(event: HistoryEvent): void {
    if (this.stopped) return;
    switch (event.k) {
      case 'send':
        if (!Number.isNaN(this.scheduling) && this.scheduling >= this.plan.warmupMs)
          this.scheduledAt.set(`${event.device}\u0000${event.cmid}`, this.scheduling);
        break;
      case 'ack': {
        const key = `${event.device}\u0000${event.cmid}`;
        const at = this.scheduledAt.get(key);
        if (at !== undefined) {
          this.ackLatency.recordMs(event.at - at);
          this.scheduledAt.delete(key);
        }
        break;
      }
      case 'failed':
        this.scheduledAt.delete(`${event.device}\u0000${event.cmid}`);
        break;
      case 'display':
        if (event.via !== 'own') this.observeDelivery(event.message.conv, event.message.body, event.at);
        break;
    }
    this.pressWatch?.observe(event);
    this.events.push(event);
    // Mid-handler, later events may carry an `at` taken before now: promise only this event's time.
    if (this.events.length >= liveLimits.eventBatchMax) this.flush(event.at);
  }

  private observeDelivery(conv: string, body: string, at: number): void {
    const mark = body.indexOf('@');
    if (mark < 0) return;
    const scheduled = Number.parseFloat(body.slice(mark + 1));
    if (!Number.isFinite(scheduled) || scheduled < this.plan.warmupMs) return;
    (partnerOf(conv, '') !== null ? this.deliveryDirect : this.deliveryGroup).recordMs(at - scheduled);
  }

  /**
   * Sends the events held, with the promise that none recorded later is earlier than `upTo` (by
   * default now: outside any handler). Sent even when empty, so the driver's merge of the
   * generators' histories (history-merge.ts) is not held back by a quiet generator.
   */
  private flush(upTo: number = this.now()): void {
    const json = this.events.length === 0 ? '[]' : JSON.stringify(this.events);
    this.events = [];
    this.send({ type: 'events', json, upTo: Number.isFinite(upTo) ? upTo : null });
  }

  // ---- setup --------------------------------------------------------------------------------

  private makeClient(local: number, device: PlannedDevice, config: ScenarioClientConfig): VirtualClient {
    const prng = this.streams.stream('client', device.index);
    const user = device.user;
    const adversary = device.adversary;
    const shard = this.plan.shard;
    // Thousands of clients per process: their callbacks come from factories (and `record` is one for
    // the shard), because a function created as an object property is given a `name` property by the
    // loader (esbuild's keepNames), a few hundred bytes per function per client.
    return new VirtualClient({
      user,
      device: device.device,
      rng: floatsOf(prng),
      token: tokensOf(this.tokens, user),
      record: this.recordEvent,
      deviceIndex: local,
      times: this.clientTimes,
      config:
        adversary === undefined
          ? config
          : {
              ...config,
              adversary: adversary.behaviours as AdversaryBehaviour[],
              foreignConvs: adversary.foreignConvs,
            },
      ...(adversary === undefined
        ? { cmidPrefix: device.device.slice(device.device.lastIndexOf('-') + 1) }
        : {
            badToken: () => this.tokens.forged(user),
            attemptId: () => shard * 10_000_000 + ++this.attempts,
          }),
    });
  }

  /** The pressers of press.ts, picked per shard; returns their client indexes. */
  private schedulePresses(): Set<number> {
    const steps = pressPlan(
      this.plan.scenario,
      this.honest,
      (i) => this.convsOf[i]!,
      (i) => this.clients[i]!.user,
      this.streams.stream('live-press', this.plan.shard),
      this.plan.warmupMs,
    );
    const { bodyBytes, largeBodyShare } = this.plan.scenario.workload;
    const pressOf = new Map(steps.filter((s) => s.press).map((s) => [this.clients[s.index]!.device, s]));
    if (pressOf.size > 0) {
      this.pressSteps = pressOf;
      this.pressWatch = new PressWatch(
        sendLimitsOf(this.plan.scenario).burst,
        liveLimits.pressAgainMax,
        (device) => this.pressAgainAt.set(device, this.now() + liveLimits.pressAgainAfterMs),
        (at) => this.stalledAt >= at,
      );
    }
    for (const step of steps)
      this.later(step.at, () => {
        const client = this.clients[step.index]!;
        const body = (): string =>
          paddedBody(
            `${client.device}#${this.sendNumber++}@${step.at.toFixed(1)}`,
            bodyBytes,
            largeBodyShare,
          );
        const now = this.now();
        this.apply(
          step.index,
          step.press
            ? client.press(step.conv, step.count, body, now)
            : client.sendMessage(step.conv, body(), now),
        );
      });
    return new Set(steps.map((step) => step.index));
  }

  /** The presses press-watch.ts asked for, due by `now`, while the workload still runs. */
  private pressesAgain(now: number): void {
    for (const [device, at] of this.pressAgainAt) {
      if (at > now) continue;
      const step = this.pressSteps.get(device);
      // Too late to be answered a burst's worth before the workload ends: no press again (the one cut
      // off stays cut off, as it was).
      if (
        step === undefined ||
        this.settleAt !== null ||
        now > this.plan.workloadEndMs - liveLimits.pressAgainLeadMs
      ) {
        this.pressAgainAt.delete(device);
        continue;
      }
      const client = this.clients[step.index]!;
      // After the cut-off press's backlog (resent on reconnect) is answered: the new press must not
      // queue behind it.
      if (!client.canSend() || client.outboxSize > 0) continue;
      this.pressAgainAt.delete(device);
      const body = (): string =>
        paddedBody(
          `${client.device}#${this.sendNumber++}@${now.toFixed(1)}`,
          this.plan.scenario.workload.bodyBytes,
          this.plan.scenario.workload.largeBodyShare,
        );
      this.apply(step.index, client.press(step.conv, step.count, body, now));
    }
  }

  private scheduleWatches(): void {
    const count = this.plan.scenario.workload.watchPerClient;
    const warmupMs = this.plan.warmupMs;
    if (count <= 0) return;
    const rng = this.streams.stream('live-watch', this.plan.shard);
    for (const i of this.honest) {
      const convs = this.convsOf[i]!;
      if (convs.length === 0) continue;
      const client = this.clients[i]!;
      const groupSize = this.plan.scenario.conversations.groupSize;
      const users = watchedUsers(convs, client.user, count, groupSize, rng);
      if (users.length === 0) continue;
      const at = Math.floor(warmupMs / 2 + rng.float() * (warmupMs / 2));
      this.later(at, () => this.apply(i, client.watch(users, this.now())));
    }
  }

  private scheduleChurn(): void {
    const { churnFraction, churnOfflineMs } = this.plan.scenario.workload;
    const from = this.plan.warmupMs;
    const until = this.plan.workloadEndMs;
    if (churnFraction <= 0 || until <= from) return;
    const rng = this.streams.stream('live-churn', this.plan.shard);
    for (const i of this.honest) {
      if (!rng.chance(churnFraction)) continue;
      const off = from + rng.float() * (until - from);
      const on = Math.min(until, off + rng.exponential(churnOfflineMs));
      const client = this.clients[i]!;
      // Settle decides every device's state (back online, or gone for good if its user leaves): a churn
      // step due before it but run after it (the settle command read first, as after a stalled loop)
      // must not bring a leaver back, to flush its outbox unseen by status() while the final read runs.
      this.later(off, () => {
        if (this.settleAt === null) this.apply(i, client.goOffline(this.now()));
      });
      this.later(on, () => {
        if (this.settleAt === null) this.apply(i, client.goOnline(this.now()));
      });
    }
  }
}

function floatsOf(prng: { float(): number }): () => number {
  return () => prng.float();
}

function tokensOf(tokens: TokenCache, user: string): () => string {
  return () => tokens.of(user);
}
