// One TCP proxy (Toxiproxy's Proxy): a listener on `listen`, a dial to `upstream` for each accepted
// client, and a Connection with the proxy's toxics between the two. Disabling closes the listener
// and every open connection; the toxics stay and apply again once the proxy is enabled.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { Connection } from './connection.ts';
import { chaosLimits } from './limits.ts';
import { AddressError, formatAddress, parseHostPort, resolveTcp } from './listen-address.ts';
import type { ProxyMetrics } from './proxy-metrics.ts';
import { type ToxicJson, toxicJson } from './toxic.ts';
import { ToxicCollection } from './toxic-collection.ts';

export type ProxyJson = {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  Logger: Record<string, never>;
  toxics: ToxicJson[];
};

/** A bind or resolve failure: the API answers 500 with Go's wording. */
export class ProxyStartError extends Error {}

const bindErrors: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

export class TcpProxy {
  enabled = false;
  readonly toxics = new ToxicCollection();
  private listener: Server | null = null;
  private readonly dialling = new Set<Socket>();

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
    private readonly random: () => number,
    private readonly metrics: ProxyMetrics | null = null,
  ) {}

  json(): ProxyJson {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      Logger: {},
      toxics: this.toxics.list().map(toxicJson),
    };
  }

  /** Binds `listen`; on success `listen` becomes the bound address (localhost:0 → 127.0.0.1:port). */
  async start(): Promise<void> {
    if (this.enabled) return;
    let address: { host: string; port: number };
    try {
      address = await resolveTcp(this.listen);
    } catch (error) {
      if (error instanceof AddressError) throw new ProxyStartError(`listen tcp: ${error.message}`);
      throw error;
    }
    const listener = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) =>
      this.accept(client),
    );
    await new Promise<void>((resolve, reject) => {
      listener.once('error', (error: NodeJS.ErrnoException) => {
        const shown = formatAddress({ host: address.host || '0.0.0.0', port: address.port });
        const reason = bindErrors[error.code ?? ''] ?? error.message;
        reject(new ProxyStartError(`listen tcp ${shown}: bind: ${reason}`));
      });
      // Go listens dual-stack on an empty host and on 0.0.0.0 alike (shown as [::]:port); Node does so
      // when no host is given.
      const anyHost = address.host === '' || address.host === '0.0.0.0';
      listener.listen({ host: anyHost ? undefined : address.host, port: address.port }, () => resolve());
    });
    listener.on('error', () => {});
    const bound = listener.address();
    if (bound && typeof bound === 'object')
      this.listen = formatAddress({ host: bound.address, port: bound.port });
    this.listener = listener;
    this.enabled = true;
  }

  /** Closes the listener (new connects are refused) and every open connection. */
  stop(): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.listener?.close();
    this.listener = null;
    for (const client of this.dialling) client.destroy();
    this.dialling.clear();
    for (const connection of this.toxics.connections) connection.kill();
    this.toxics.connections.clear();
  }

  private accept(client: Socket): void {
    this.dialling.add(client);
    client.on('error', () => {});
    let target: { host: string; port: number };
    try {
      target = parseHostPort(this.upstream);
    } catch {
      this.refuse(client);
      return;
    }
    const server = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    server.setTimeout(chaosLimits.upstreamDialTimeoutMs, () => server.destroy(new Error('dial timeout')));
    const failed = () => this.refuse(client);
    server.once('error', failed);
    server.once('connect', () => {
      server.setTimeout(0);
      server.off('error', failed);
      if (!this.dialling.delete(client) || client.destroyed) {
        server.destroy();
        return;
      }
      server.on('error', () => {});
      const labels = { proxy: this.name, listener: this.listen, upstream: this.upstream };
      const counters = this.metrics
        ? {
            upstream: this.metrics.forLink(labels, 'upstream'),
            downstream: this.metrics.forLink(labels, 'downstream'),
          }
        : undefined;
      const connection = new Connection(
        client,
        server,
        this.toxics.liveChains(),
        this.random,
        (gone) => this.toxics.connections.delete(gone),
        counters,
      );
      this.toxics.connections.add(connection);
    });
  }

  /** The upstream could not be reached: the client reads EOF. */
  private refuse(client: Socket): void {
    this.dialling.delete(client);
    client.end(() => client.destroy());
  }
}
