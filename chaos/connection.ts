// One proxied TCP connection: the client's socket, the upstream socket, and a ToxicLink each way.
// When a link's EOF reaches its writer, the destination socket is closed for good (Toxiproxy closes,
// it does not half-close), and the other link sees its source end; so one side closing closes both,
// after each direction has handed on what it already carried. With linger 0 (a reset_peer toxic was
// in place at accept) every close is an RST.

import type { Socket } from 'node:net';
import { chaosLimits } from './limits.ts';
import { type LinkCounters, uncounted } from './proxy-metrics.ts';
import type { Direction, Toxic } from './toxic.ts';
import { ToxicLink } from './toxic-link.ts';

export class Connection {
  readonly links: Record<Direction, ToxicLink>;
  private readonly lingerZero: boolean;
  private readonly closing = new Set<Socket>();
  private openSockets = 2;

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    chains: Record<Direction, readonly Toxic[]>,
    random: () => number,
    private readonly onGone: (connection: Connection) => void,
    counters: Record<Direction, LinkCounters> = { upstream: uncounted, downstream: uncounted },
  ) {
    this.lingerZero = [...chains.upstream, ...chains.downstream].some((toxic) => toxic.kind.lingerZero);
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.links = {
      upstream: new ToxicLink(
        'upstream',
        chains.upstream,
        client,
        server,
        random,
        () => this.close(server),
        counters.upstream,
      ),
      downstream: new ToxicLink(
        'downstream',
        chains.downstream,
        server,
        client,
        random,
        () => this.close(client),
        counters.downstream,
      ),
    };
    this.watch(client, this.links.upstream, this.links.downstream);
    this.watch(server, this.links.downstream, this.links.upstream);
    client.resume();
  }

  /** Closes both sockets now (the proxy was disabled or deleted). */
  kill(): void {
    this.links.upstream.kill();
    this.links.downstream.kill();
    this.close(this.client);
    this.close(this.server);
  }

  private watch(socket: Socket, readLink: ToxicLink, writeLink: ToxicLink): void {
    socket.on('end', () => readLink.sourceEnded());
    socket.on('error', () => {
      readLink.sourceEnded();
      writeLink.destinationGone();
    });
    socket.on('close', () => {
      readLink.sourceEnded();
      writeLink.destinationGone();
      if (--this.openSockets === 0) {
        this.links.upstream.kill();
        this.links.downstream.kill();
        this.onGone(this);
      }
    });
  }

  /** Toxiproxy's conn.Close(): no more reads, pending writes flushed, then FIN (RST with linger 0). */
  private close(socket: Socket): void {
    if (this.closing.has(socket)) return;
    this.closing.add(socket);
    const readLink = socket === this.client ? this.links.upstream : this.links.downstream;
    readLink.sourceEnded();
    if (socket.destroyed) return;
    if (this.lingerZero) {
      socket.resetAndDestroy();
      return;
    }
    socket.pause();
    const grace = setTimeout(() => socket.destroy(), chaosLimits.closeGraceMs).unref();
    socket.end(() => {
      clearTimeout(grace);
      socket.destroy();
    });
  }
}
