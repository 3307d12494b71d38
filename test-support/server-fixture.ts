// Starts a real server on an ephemeral port and tears everything down after: the clients it opened,
// the server, the temp dir. The server is the reference server (backed by a MemoryStore or a LogStore
// in a fresh temp dir) or the minimal second server of test-support/minimal-server (in memory, or with
// its journal in a temp dir): protocol-level tests run against both, so they prove the contract rather
// than one implementation. Tests build on it so each one only says what it checks.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import type { NodeLimits } from '../reference-server/core/limits.ts';
import type { BugName } from '../reference-server/known-bugs/bugs.ts';
import type { WelcomeFrame } from '../reference-server/protocol/frames.ts';
import type { NodeBus } from '../reference-server/runtime/node-bus.ts';
import { type RunningServer, startServer } from '../reference-server/runtime/server.ts';
import { MemoryStore } from '../reference-server/store/memory-store.ts';
import type { MessageStore } from '../reference-server/store/message-store.ts';
import { ChatClient } from './chat-client.ts';
import { type ConversationSpec, HttpApi } from './http.ts';
import { defaultMinimalLimits, type MinimalLimits } from './minimal-server/limits.ts';
import { type MinimalServer, startMinimalServer } from './minimal-server/server.ts';
import { mintTestToken, type TokenOptions } from './tokens.ts';

export type StoreKind = 'memory' | 'log';
/** Which server a fixture runs: the reference server, or the minimal one written from protocol.md alone. */
export type ServerTarget = 'reference' | 'minimal';
export const serverTargets: readonly ServerTarget[] = ['reference', 'minimal'];
export type FixtureOptions = {
  /** Default 'reference'. Reference-only options (`bugs`, `storeInstance`, `bus`) refuse 'minimal'. */
  target?: ServerTarget;
  store?: StoreKind;
  limits?: Partial<NodeLimits>;
  closeTimeoutMs?: number;
  /** Known-bug variants to run (startServer's `bugs`). */
  bugs?: readonly BugName[];
  /** A store the test built itself (e.g. over a controllable sink), used instead of `store`; closed with the server. */
  storeInstance?: MessageStore;
  /** An OpenTelemetry tracer for the reference server (startServer's `tracer`). */
  tracer?: Tracer;
  /** The node's fleet bus (startServer's `bus`): with one, the node is a fleet node (it publishes). */
  bus?: NodeBus;
};
export type Session = { client: ChatClient; welcome: WelcomeFrame };

let fixtureCount = 0;

/** Loaded on demand so the memory-store tests do not load the log store's file machinery. */
async function openLogStore(dir: string): Promise<MessageStore> {
  const { LogStore } = await import('../reference-server/store/log-store.ts');
  return new LogStore({ dir });
}

type Running = { kind: 'reference'; server: RunningServer } | { kind: 'minimal'; server: MinimalServer };

export class ServerFixture {
  readonly http: HttpApi;
  readonly secret: string;
  private readonly clients = new Set<ChatClient>();
  private idCount = 0;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly running: Running,
    private readonly dataDir: string | null,
    secret: string,
  ) {
    this.http = new HttpApi(running.server.url);
    this.secret = secret;
  }

  static async start(options: FixtureOptions = {}): Promise<ServerFixture> {
    const secret = `conformance-secret-${process.pid}-${++fixtureCount}`;
    const dataDir =
      options.store === 'log' && options.storeInstance === undefined
        ? await mkdtemp(join(tmpdir(), 'chatsim-conformance-'))
        : null;
    if (options.target === 'minimal') return ServerFixture.startMinimal(options, dataDir, secret);
    const store: MessageStore =
      options.storeInstance ?? (dataDir ? await openLogStore(dataDir) : new MemoryStore());
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      store,
      secret,
      nodeId: `conformance-${fixtureCount}`,
      limits: options.limits ?? {},
      closeTimeoutMs: options.closeTimeoutMs ?? 2000,
      log: () => {},
      bugs: options.bugs ?? [],
      ...(options.tracer ? { tracer: options.tracer } : {}),
      ...(options.bus ? { bus: options.bus } : {}),
    });
    return new ServerFixture({ kind: 'reference', server }, dataDir, secret);
  }

  private static async startMinimal(
    options: FixtureOptions,
    dataDir: string | null,
    secret: string,
  ): Promise<ServerFixture> {
    if (options.bugs?.length || options.storeInstance || options.bus)
      throw new Error('bugs and storeInstance are reference-server options; the minimal server has neither');
    const limits: Partial<MinimalLimits> = {};
    for (const [field, value] of Object.entries(options.limits ?? {})) {
      if (!(field in defaultMinimalLimits))
        throw new Error(
          `the minimal server has no limit ${field}: run this test against the reference server`,
        );
      limits[field as keyof MinimalLimits] = value;
    }
    const server = await startMinimalServer({
      port: 0,
      host: '127.0.0.1',
      secret,
      nodeId: `minimal-${fixtureCount}`,
      limits,
      closeTimeoutMs: options.closeTimeoutMs ?? 2000,
      ...(dataDir ? { dataDir } : {}),
      onFatal: (error) => {
        throw error;
      },
    });
    return new ServerFixture({ kind: 'minimal', server }, dataDir, secret);
  }

  get target(): ServerTarget {
    return this.running.kind;
  }

  get url(): string {
    return this.running.server.url;
  }

  get wsUrl(): string {
    return this.running.server.wsUrl;
  }

  /** The reference server itself, for tests of its internals; fails on the minimal server. */
  get server(): RunningServer {
    if (this.running.kind !== 'reference')
      throw new Error('this test reads reference-server internals: run it with target reference only');
    return this.running.server;
  }

  /** Graceful drain (`drain`, close 1012, stop). */
  drain(): Promise<void> {
    return this.running.server.drain();
  }

  /** Connections the server closed with 4509 so far (each server counts its own). */
  slowConsumerCloses(): number {
    return this.running.kind === 'reference'
      ? this.running.server.node.stats.slowConsumerCloses
      : this.running.server.stats.slowConsumerCloses;
  }

  /** A fresh id with `prefix`, so tests sharing one server never collide. */
  id(prefix: string): string {
    return `${prefix}-${++this.idCount}`;
  }

  token(user: string, options?: TokenOptions): Promise<string> {
    return mintTestToken(this.secret, user, options);
  }

  adminToken(): Promise<string> {
    return mintTestToken(this.secret, 'conformance-admin', { admin: true });
  }

  /** An open socket, not yet authenticated. */
  async connect(label = 'client'): Promise<ChatClient> {
    const client = await ChatClient.connect(this.wsUrl, label);
    this.clients.add(client);
    return client;
  }

  /** An authenticated session of `user`. */
  async session(
    user: string,
    options: { resume?: Record<string, number>; device?: string; label?: string } = {},
  ): Promise<Session> {
    const client = await this.connect(options.label ?? user);
    const welcome = await client.hello(await this.token(user), options.resume, options.device);
    return { client, welcome };
  }

  /** Creates a conversation through the admin API and returns its id. */
  async conversation(
    members: string[],
    kind: ConversationSpec['kind'] = 'group',
    id = this.id('conv'),
  ): Promise<string> {
    await this.http.mustCreateConversation(await this.adminToken(), { id, kind, members });
    return id;
  }

  async changeMembers(conv: string, change: { add?: string[]; remove?: string[] }): Promise<void> {
    await this.http.mustChangeMembers(await this.adminToken(), conv, change);
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    for (const client of this.clients) client.terminate();
    this.clients.clear();
    await this.running.server.close();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
