// One load worker's share of a phase: opens its connections (bounded concurrency, bounded time),
// then on `run` sends through each connection's window for warm-up + measured window, counting only
// what completes inside the measured window, waits a bounded drain, and closes everything.

import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { type ClientDialect, clientDialects, type Incoming } from './client-dialects.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { benchLimits } from './limits.ts';
import type { ClientSpec, LoadPlan, LoadReport } from './load-plan.ts';
import { SendWindow } from './send-window.ts';

type Connection = { spec: ClientSpec; socket: WebSocket; window: SendWindow | null };

export class LoadRun {
  private readonly dialect: ClientDialect;
  private readonly body: string;
  private readonly connections: Connection[] = [];
  private readonly histogram = new LatencyHistogram();
  private readonly errors: Record<string, number> = {};
  private readonly closes: Record<string, number> = {};
  private measuring = false;
  private closing = false;
  private sent = 0;
  private completed = 0;
  private deliveries = 0;
  private onSettled: (() => void) | null = null;

  constructor(private readonly plan: LoadPlan) {
    this.dialect = clientDialects[plan.dialect];
    this.body = 'x'.repeat(plan.bodyBytes);
  }

  /** Opens every connection; resolves once all are ready (welcomed, for chat). */
  async connect(): Promise<number> {
    const pending = [...this.plan.clients];
    const opener = async () => {
      for (let spec = pending.shift(); spec; spec = pending.shift()) await this.open(spec);
    };
    const openers = Array.from({ length: Math.min(benchLimits.connectConcurrency, pending.length) }, opener);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`connections not ready within ${benchLimits.connectTimeoutMs} ms`)),
        benchLimits.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all(openers), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.connections.length;
  }

  /** Warm-up, measured window, drain; then closes every connection and reports. */
  async run(): Promise<LoadReport> {
    const startMs = performance.now();
    const intervalMs = this.plan.ratePerConnPerSec === null ? null : 1000 / this.plan.ratePerConnPerSec;
    // Open model: first sends spread evenly over one interval, so connections do not fire in lockstep.
    this.connections.forEach((connection, i) => {
      const offsetMs = intervalMs === null ? 0 : (intervalMs * i) / this.connections.length;
      connection.window = new SendWindow(this.plan.windowMax, intervalMs, startMs + offsetMs);
      this.pump(connection, startMs);
    });
    const ticker =
      intervalMs === null
        ? null
        : setInterval(() => {
            const nowMs = performance.now();
            for (const connection of this.connections) this.pump(connection, nowMs);
          }, benchLimits.tickMs);
    await delay(this.plan.warmupMs);
    this.measuring = true;
    const measureStartMs = performance.now();
    const cpuStart = process.cpuUsage();
    await delay(this.plan.measureMs);
    this.measuring = false;
    const measuredMs = performance.now() - measureStartMs;
    const cpu = process.cpuUsage(cpuStart);
    if (ticker) clearInterval(ticker);
    for (const connection of this.connections) connection.window?.stop();
    await this.settled(benchLimits.drainMs);
    const unansweredAtEnd = this.connections.reduce((sum, c) => sum + (c.window?.size ?? 0), 0);
    await this.closeAll();
    return {
      connections: this.connections.length,
      measuredMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      sent: this.sent,
      completed: this.completed,
      deliveries: this.deliveries,
      latency: this.histogram.snapshot(),
      errors: this.errors,
      closes: this.closes,
      unansweredAtEnd,
    };
  }

  private open(spec: ClientSpec): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.dialect.url(spec.url ?? this.plan.url, spec), {
        perMessageDeflate: false,
      });
      const connection: Connection = { spec, socket, window: null };
      let ready = false;
      const becomeReady = () => {
        if (ready) return;
        ready = true;
        this.connections.push(connection);
        resolve();
      };
      socket.on('open', () => {
        const greeting = this.dialect.greeting(spec);
        if (greeting === null) becomeReady();
        else socket.send(greeting);
      });
      socket.on('message', (data: Buffer) => {
        const incoming = this.dialect.read(spec, data);
        if (incoming.ready) becomeReady();
        this.receive(connection, incoming);
      });
      socket.on('error', (error) => {
        if (!ready) reject(new Error(`${spec.id}: ${error.message}`));
      });
      socket.on('close', (code, reason) => {
        if (!ready) reject(new Error(`${spec.id}: closed ${code} ${reason.toString()} before it was ready`));
        else if (!this.closing) this.closes[code] = (this.closes[code] ?? 0) + 1;
        connection.window?.stop();
        this.checkSettled();
      });
    });
  }

  private receive(connection: Connection, incoming: Incoming): void {
    if (incoming.delivery && this.measuring) this.deliveries++;
    if (incoming.answers === undefined || connection.window === null) {
      if (incoming.errorCode) this.errors[incoming.errorCode] = (this.errors[incoming.errorCode] ?? 0) + 1;
      return;
    }
    const nowMs = performance.now();
    if (incoming.errorCode) {
      this.errors[incoming.errorCode] = (this.errors[incoming.errorCode] ?? 0) + 1;
      connection.window.abandon(incoming.answers);
    } else {
      const latencyMs = connection.window.complete(incoming.answers, nowMs);
      if (latencyMs !== null && this.measuring) {
        this.completed++;
        this.histogram.recordMs(latencyMs);
      }
    }
    this.pump(connection, nowMs);
    this.checkSettled();
  }

  private pump(connection: Connection, nowMs: number): void {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    connection.window?.pump(nowMs, (n) => {
      const { key, data } = this.dialect.frame(connection.spec, n, this.body);
      connection.socket.send(data);
      if (this.measuring) this.sent++;
      return key;
    });
  }

  /** Resolves when no send is outstanding on an open connection, or after `ms`. */
  private settled(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.onSettled = finish;
      this.checkSettled();
    });
  }

  private checkSettled(): void {
    if (!this.onSettled) return;
    const open = (c: Connection) => c.socket.readyState === WebSocket.OPEN && (c.window?.size ?? 0) > 0;
    if (this.connections.some(open)) return;
    const done = this.onSettled;
    this.onSettled = null;
    done();
  }

  private async closeAll(): Promise<void> {
    this.closing = true;
    const closed = this.connections.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.socket.readyState === WebSocket.CLOSED) return resolve();
          c.socket.once('close', () => resolve());
          c.socket.close(1000);
        }),
    );
    await Promise.race([Promise.all(closed), delay(benchLimits.killGraceMs)]);
    for (const c of this.connections) if (c.socket.readyState !== WebSocket.CLOSED) c.socket.terminate();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
