// The transport's writes: frames to one socket within one turn of the loop leave in one write (each
// frame on its own was one writev system call, most of a node's CPU under group fan-out), in order, and
// a consumer is judged slow only by what the kernel would not take after that write.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Input } from '../core/inputs.ts';
import type { ServerFrame } from '../protocol/frames.ts';
import { WsTransport, wsPath } from './ws-transport.ts';

type Rig = {
  transport: WsTransport;
  inputs: Input[];
  /** How many writes the server's end of the client's socket made (its stream's _write and _writev). */
  writes: () => number;
  client: WebSocket;
  received: string[];
  conn: number;
};

const open: { server: Server; transport: WsTransport; client: WebSocket }[] = [];

afterEach(async () => {
  for (const { server, transport, client } of open.splice(0)) {
    client.terminate();
    transport.shutdown();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function rig(sendBufferBytesMax: number): Promise<Rig> {
  const inputs: Input[] = [];
  const transport = new WsTransport({
    feed: (input) => inputs.push(input),
    heartbeatMs: 60_000,
    sendBufferBytesMax,
    closeTimeoutMs: 1000,
  });
  const server = createServer();
  let socket: Duplex | undefined;
  server.prependListener('upgrade', (_req, s: Duplex) => {
    socket = s;
  });
  transport.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}${wsPath}`);
  const received: string[] = [];
  client.on('message', (data: Buffer) => received.push(data.toString('utf8')));
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  open.push({ server, transport, client });
  await until(() => inputs.some((i) => i.type === 'open'));
  const conn = (inputs.find((i) => i.type === 'open') as { conn: number }).conn;
  const sink = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  let count = 0;
  const write = sink._write.bind(sink);
  const writev = sink._writev.bind(sink);
  sink._write = (...a) => {
    count++;
    write(...a);
  };
  sink._writev = (...a) => {
    count++;
    writev(...a);
  };
  return { transport, inputs, writes: () => count, client, received, conn };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

const pong = (n: number): ServerFrame => ({ t: 'pong', ref: `r${n}` }) as unknown as ServerFrame;

describe('WsTransport writes', () => {
  it('sends the frames of one turn to a socket in one write, in order', async () => {
    const { transport, writes, received, conn } = await rig(1 << 20);
    for (let n = 0; n < 50; n++) transport.send([conn], pong(n));
    await until(() => received.length === 50);
    // One write (two if the socket was mid-write when the turn ended); 50 before corking.
    expect(writes()).toBeLessThanOrEqual(2);
    expect(received.map((r) => JSON.parse(r).ref)).toEqual(Array.from({ length: 50 }, (_, n) => `r${n}`));
  });

  it('does not take a burst the kernel accepts for a slow consumer', async () => {
    const { transport, inputs, received, conn } = await rig(16 * 1024);
    const body = 'x'.repeat(1000);
    // 40 KB in one turn: over the 16 KB bound while corked, taken at once by a loopback socket.
    for (let n = 0; n < 40; n++)
      transport.send([conn], { t: 'pong', ref: `r${n}`, body } as unknown as ServerFrame);
    await until(() => received.length === 40);
    expect(inputs.filter((i) => i.type === 'backpressure')).toEqual([]);
  });

  it('reports a consumer that does not read once the turn is written', async () => {
    const { transport, inputs, client, conn } = await rig(64 * 1024);
    (client as unknown as { _socket: Duplex })._socket.pause();
    const body = 'x'.repeat(60_000);
    // 48 MB, more than loopback buffers take from a reader that is paused.
    for (let n = 0; n < 800; n++)
      transport.send([conn], { t: 'pong', ref: `r${n}`, body } as unknown as ServerFrame);
    expect(inputs.filter((i) => i.type === 'backpressure')).toEqual([]);
    await until(() => inputs.some((i) => i.type === 'backpressure'));
  });
});
