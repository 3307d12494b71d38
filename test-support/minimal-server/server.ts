// A deliberately minimal protocol-v1 chat server, written from protocol.md alone and sharing no code
// with reference-server/: a second implementation the harness is proved against, so the live driver
// and the conformance suite cannot lean on anything the reference server does beyond the contract.
// One process, state in memory, durability from an fsynced append-only journal in the data dir (none
// without one). It speaks v1 only: no v1.1 fields, no tracing.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { httpHandler } from './http-api.ts';
import { Journal } from './journal.ts';
import { defaultMinimalLimits, fixedLimits, type MinimalLimits } from './limits.ts';
import { Sessions } from './sessions.ts';
import { asRecord, ChatState } from './state.ts';

export type MinimalServerOptions = {
  port: number;
  host?: string;
  secret: string;
  /** Where the journal lives; without it nothing survives a restart. */
  dataDir?: string;
  nodeId?: string;
  limits?: Partial<MinimalLimits>;
  closeTimeoutMs?: number;
  /** The journal failed: nothing more can be promised. The CLI exits; tests fail loudly. */
  onFatal?: (error: Error) => void;
};

export type MinimalServer = {
  readonly url: string;
  readonly wsUrl: string;
  readonly stats: { readonly slowConsumerCloses: number; readonly messages: number };
  /** `drain` to every connection, close 1012, then stop; resolves once stopped. */
  drain(): Promise<void>;
  /** Stops at once: sockets terminated, journal flushed and closed. */
  close(): Promise<void>;
};

export async function startMinimalServer(options: MinimalServerOptions): Promise<MinimalServer> {
  const limits = { ...defaultMinimalLimits, ...options.limits };
  const state = new ChatState();
  let fatal: Error | null = null;
  const journal = await Journal.open(
    options.dataDir,
    (record, line) => {
      try {
        state.apply(asRecord(record));
      } catch (error) {
        throw new Error(`journal line ${line}: ${(error as Error).message}`);
      }
    },
    (error) => {
      fatal = error;
      (options.onFatal ?? ((e) => console.error(`minimal server: ${e.message}`)))(error);
    },
  );
  const sessions = new Sessions({
    state,
    journal,
    limits,
    secret: options.secret,
    nodeId: options.nodeId ?? 'minimal',
    closeTimeoutMs: options.closeTimeoutMs ?? fixedLimits.closeTimeoutMs,
  });
  let draining = false;
  const http = createServer(
    httpHandler({ state, journal, sessions, secret: options.secret, isDraining: () => draining }),
  );
  const wss = new WebSocketServer({ noServer: true, maxPayload: fixedLimits.frameBytesMax });
  http.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://minimal').pathname;
    if (path !== '/v1/ws' || draining || fatal) {
      socket.end(`HTTP/1.1 ${path !== '/v1/ws' ? '404 Not Found' : '503 Service Unavailable'}\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => sessions.accept(ws));
  });
  await listen(http, options.port, options.host ?? '127.0.0.1');
  const { address, port } = http.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let stopping: Promise<void> | null = null;
  const stop = async (graceful: boolean) => {
    draining = true;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    if (graceful) await sessions.drain();
    sessions.terminateAll();
    http.closeAllConnections();
    await closed;
    wss.close();
    await journal.close();
  };
  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/v1/ws`,
    stats: sessions.stats,
    drain: () => {
      stopping ??= stop(true);
      return stopping;
    },
    close: () => {
      stopping ??= stop(false);
      return stopping;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
