// Wires one live chat node: the store, the sans-I/O core, WebSocket and HTTP on one port, metrics.
// Startup order is fixed (open the store, load the core, then listen), so no client is served before
// the node knows every conversation; drain lets clients leave with `drain` + 1012 before the store closes.

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import type { ChatNode } from '../core/chat-node.ts';
import type { Input } from '../core/inputs.ts';
import type { NodeLimits } from '../core/limits.ts';
import { createChatNode } from '../known-bugs/buggy-chat-node.ts';
import type { BugName } from '../known-bugs/bugs.ts';
import { withStoreBugs } from '../store/buggy-store.ts';
import type { MessageStore } from '../store/message-store.ts';
import { createTokenVerifier } from './auth.ts';
import { FrameTracer } from './frame-tracer.ts';
import { HttpApi } from './http-api.ts';
import { runtimeLimits } from './limits.ts';
import { ServerMetrics } from './metrics.ts';
import type { NodeBus } from './node-bus.ts';
import { NodeDriver, type StepMeter } from './node-driver.ts';
import { StoreExecutor } from './store-executor.ts';
import { WakeTimer } from './wake-timer.ts';
import { WsTransport, wsPath } from './ws-transport.ts';

export type ServerOptions = {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  store: MessageStore;
  secret: string;
  nodeId?: string;
  limits?: Partial<NodeLimits>;
  /** How long a peer has to answer a close frame before its socket is destroyed; default 3000. */
  closeTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Known-bug variants (bugs.ts), to prove the harness catches them; never in production. Core bugs go
   * to the ChatNode, store bugs wrap `store` ('ack-before-durable' must be built into it).
   */
  bugs?: readonly BugName[];
  /** The fleet's bus (Redis); without one the node is alone and publishes nothing. */
  bus?: NodeBus;
  /** OpenTelemetry tracer: spans send -> persist -> fan-out -> deliver for sends carrying `tp` (off without). */
  tracer?: Tracer;
  /** Times each core step (serve --cost-meter, for capacity calibration); off without. */
  stepMeter?: StepMeter;
};

export type RunningServer = {
  port: number;
  /** http://host:port */
  url: string;
  /** ws://host:port/v1/ws */
  wsUrl: string;
  node: ChatNode;
  /** Observes fsync latency: wire a LogStore's `onFsync` here. */
  metrics: ServerMetrics;
  /** Drains clients (`drain`, then close 1012), then closes the store and the listener. */
  drain(): Promise<void>;
  /** Hard stop for tests: destroys every socket, then closes the store and the listener. */
  close(): Promise<void>;
};

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const closeTimeoutMs = options.closeTimeoutMs ?? runtimeLimits.closeTimeoutMsDefault;
  const bugs = [...new Set(options.bugs ?? [])];
  const store = withStoreBugs(options.store, bugs);
  if (bugs.length > 0)
    log(
      `WARNING: running with deliberate bug(s) ${bugs.join(', ')}: this server breaks the protocol on purpose`,
    );
  const verifier = createTokenVerifier(options.secret);

  let records: Awaited<ReturnType<MessageStore['open']>>;
  try {
    records = await store.open();
  } catch (error) {
    // A store that failed to open (Redis unreachable or not durable) must not keep the process alive.
    await store.close().catch(() => {});
    await options.bus?.close().catch(() => {});
    throw error;
  }
  const node = createChatNode(
    {
      nodeId: options.nodeId ?? `node-${randomBytes(4).toString('hex')}`,
      limits: options.limits ?? {},
      publishes: options.bus !== undefined,
    },
    bugs,
  );
  node.load(records);
  const limits = node.limits;

  const driver = new NodeDriver(node, Date.now, options.stepMeter);
  const tracing = options.tracer ? new FrameTracer(options.tracer) : null;
  const feed: (input: Input) => void = tracing
    ? (input) => {
        tracing.input(input);
        driver.feed(input);
      }
    : driver.feed.bind(driver);
  const metrics = new ServerMetrics(node);
  const transport = new WsTransport({
    feed,
    heartbeatMs: limits.heartbeatMs,
    sendBufferBytesMax: limits.sendBufferBytesMax,
    closeTimeoutMs,
  });
  let draining = false;
  const bus = options.bus;
  const api = new HttpApi({
    feed,
    verifier,
    store,
    metrics,
    isDraining: () => draining,
    ...(bus ? { busProblem: () => bus.problem() } : {}),
  });
  const executor = new StoreExecutor({ store, feed, log });
  const wake = new WakeTimer(() => driver.tick());
  let onDrained: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    onDrained = resolve;
  });

  driver.attach({
    send: tracing
      ? (effect) => tracing.send(effect, (traced) => transport.send(traced.to, traced.frame))
      : (effect) => transport.send(effect.to, effect.frame),
    close: (effect) => transport.close(effect.conn, effect.code, effect.reason),
    verify: (effect) => {
      verifier(effect.token).then((verdict) =>
        feed(
          verdict.ok
            ? { type: 'verified', conn: effect.conn, claims: verdict.claims }
            : { type: 'verified', conn: effect.conn, claims: null, reason: verdict.reason },
        ),
      );
    },
    store: (effect) => {
      tracing?.store(effect);
      executor.run(effect.id, effect.op);
    },
    reply: (effect) => api.reply(effect.req, effect.status, effect.body),
    // A single node has nobody to tell.
    publish: bus ? (effect) => bus.publish(effect.event) : () => {},
    wake: (effect) => wake.request(effect.at),
    drained: () => onDrained(),
  });

  const httpServer = createServer(api.handle);
  transport.attach(httpServer);
  try {
    // Subscribed before the first client: nothing another node publishes from now on is missed.
    if (bus) await bus.start(node.nodeId, feed);
    driver.start();
    await listen(httpServer, options.port, host);
  } catch (error) {
    driver.stop();
    transport.shutdown();
    await bus?.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
  const port = (httpServer.address() as { port: number }).port;
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      driver.stop();
      wake.stop();
      transport.shutdown();
      await bus?.close().catch((error: unknown) => log(`bus close failed: ${String(error)}`));
      await store.close().catch((error: unknown) => log(`store close failed: ${String(error)}`));
      await closeHttp(httpServer);
    })();
    return stopping;
  };

  let drainRun: Promise<void> | null = null;
  const drain = (): Promise<void> => {
    drainRun ??= (async () => {
      draining = true;
      transport.stopAccepting();
      feed({ type: 'drain', reconnectInMs: limits.drainReconnectMs });
      // The core force-closes at drainTimeoutMs; each close may wait closeTimeoutMs for the peer.
      const finished = await within(drained, limits.drainTimeoutMs + closeTimeoutMs);
      if (!finished)
        log(
          `drain did not finish in time (${node.connectionCount} connections, ${node.pendingStoreOps} store operations left); stopping anyway`,
        );
      await stop();
    })();
    return drainRun;
  };

  return {
    port,
    url: `http://${authority}`,
    wsUrl: `ws://${authority}${wsPath}`,
    node,
    metrics,
    drain,
    close: stop,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: runtimeLimits.listenBacklog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** true when `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
