// Starts a real reference server on an ephemeral port, backed by a MemoryStore or by a LogStore in a
// fresh temp dir, and tears everything down after: the clients it opened, the server, the temp dir.
// Tests build on it so each one only says what it checks.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BugName } from '../reference-server/core/bugs.ts';
import type { NodeLimits } from '../reference-server/core/limits.ts';
import type { WelcomeFrame } from '../reference-server/protocol/frames.ts';
import { type RunningServer, startServer } from '../reference-server/runtime/server.ts';
import { MemoryStore } from '../reference-server/store/memory-store.ts';
import type { MessageStore } from '../reference-server/store/message-store.ts';
import { ChatClient } from './chat-client.ts';
import { type ConversationSpec, HttpApi } from './http.ts';
import { mintTestToken, type TokenOptions } from './tokens.ts';

export type StoreKind = 'memory' | 'log';
export type FixtureOptions = {
  store?: StoreKind;
  limits?: Partial<NodeLimits>;
  closeTimeoutMs?: number;
  /** Known-bug variants to run (startServer's `bugs`). */
  bugs?: readonly BugName[];
  /** A store the test built itself (e.g. over a controllable sink), used instead of `store`; closed with the server. */
  storeInstance?: MessageStore;
};
export type Session = { client: ChatClient; welcome: WelcomeFrame };

let fixtureCount = 0;

/** Loaded on demand so the memory-store tests do not load the log store's file machinery. */
async function openLogStore(dir: string): Promise<MessageStore> {
  const { LogStore } = await import('../reference-server/store/log-store.ts');
  return new LogStore({ dir });
}

export class ServerFixture {
  readonly http: HttpApi;
  readonly secret: string;
  private readonly clients = new Set<ChatClient>();
  private idCount = 0;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly server: RunningServer,
    readonly store: MessageStore,
    private readonly dataDir: string | null,
    secret: string,
  ) {
    this.http = new HttpApi(server.url);
    this.secret = secret;
  }

  static async start(options: FixtureOptions = {}): Promise<ServerFixture> {
    const secret = `conformance-secret-${process.pid}-${++fixtureCount}`;
    const dataDir =
      options.store === 'log' && options.storeInstance === undefined
        ? await mkdtemp(join(tmpdir(), 'chatsim-conformance-'))
        : null;
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
    });
    return new ServerFixture(server, store, dataDir, secret);
  }

  get wsUrl(): string {
    return this.server.wsUrl;
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
    const client = await ChatClient.connect(this.server.wsUrl, label);
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
    await this.server.close();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
