// TCP endpoints for proxy tests: an upstream that records what each connection sent and can answer,
// and a client that collects what it reads and how the stream ended (EOF, RST). Everything listens on
// 127.0.0.1 port 0 and is closed by the test that started it.

import { connect, createServer, type Server, type Socket } from 'node:net';

export type Received = {
  socket: Socket;
  chunks: Buffer[];
  bytes(): Buffer;
  /** Resolves when the peer's stream ends, with how it ended. */
  ended: Promise<'eof' | 'reset' | 'error'>;
};

function record(socket: Socket): Received {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<'eof' | 'reset' | 'error'>((resolve) => {
    socket.once('end', () => resolve('eof'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNRESET' ? 'reset' : 'error'),
    );
    socket.once('close', () => resolve('eof'));
  });
  return { socket, chunks, bytes: () => Buffer.concat(chunks), ended };
}

export type Upstream = {
  port: number;
  address: string;
  /** Connections in accept order. */
  accepted: Received[];
  /** Resolves with the nth accepted connection (0-based). */
  connection(index: number): Promise<Received>;
  close(): Promise<void>;
};

/** `echo`: every connection sends back what it reads (for round trips through a proxy). */
export async function startUpstream(options: { echo?: boolean } = {}): Promise<Upstream> {
  const accepted: Received[] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    accepted.push(record(socket));
    if (options.echo) socket.on('data', (chunk: Buffer) => socket.write(chunk));
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    address: `127.0.0.1:${port}`,
    accepted,
    async connection(index) {
      while (accepted.length <= index) await new Promise<void>((resolve) => waiters.push(resolve));
      return accepted[index]!;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects to host:port; resolves once connected, with what the client reads recorded. */
export function connectTo(address: string): Promise<Received> {
  const colon = address.lastIndexOf(':');
  const socket = connect({
    host: address.slice(0, colon),
    port: Number(address.slice(colon + 1)),
    allowHalfOpen: true,
  });
  const received = record(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(received));
    socket.once('error', reject);
  });
}

/** Writes chunks one by one, each after the previous is flushed, so the proxy sees them apart. */
export async function writeChunks(socket: Socket, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks)
    await new Promise<void>((resolve, reject) =>
      socket.write(chunk, (error) => (error ? reject(error) : resolve())),
    );
}
