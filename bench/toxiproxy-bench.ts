// `npm run bench:toxiproxy`: what the embedded Toxiproxy costs. The proxy runs in its own process
// (`chatsim toxiproxy`, as live runs use it); the load and the upstream run here. Figures: bulk
// throughput of one connection with no toxic and with a 100 ms latency toxic (Toxiproxy's own test
// expects latency not to cut throughput), and small round trips over many connections, each beside
// the same load sent directly to the upstream.

import { connect, createServer, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { Toxiproxy } from 'toxiproxy-node-client';
import { spawnToxiproxy } from '../chaos/toxiproxy-process.ts';

const bulkBytes = 256 * 1024 * 1024;
const pingConnections = Number(process.env.BENCH_CONNECTIONS ?? 1000);
const pingSeconds = 5;

async function listen(onSocket: (socket: Socket) => void): Promise<string> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

function dial(address: string): Promise<Socket> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host!, port: Number(port) }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** MB/s of one connection writing bulkBytes to a sink that counts them. */
async function bulk(address: string, sink: Sink): Promise<number> {
  const done = sink.expect(bulkBytes);
  const socket = await dial(address);
  const block = Buffer.alloc(64 * 1024, 7);
  const started = performance.now();
  for (let sent = 0; sent < bulkBytes; sent += block.length)
    if (!socket.write(block)) await new Promise((resolve) => socket.once('drain', resolve));
  await done;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return bulkBytes / 1e6 / seconds;
}

type Sink = { address: string; expect(bytes: number): Promise<void> };

/** A server that counts what it reads; `expect` resolves once that many more bytes came in. */
async function startSink(): Promise<Sink> {
  let target = Number.POSITIVE_INFINITY;
  let received = 0;
  let reached: () => void = () => {};
  const address = await listen((socket) =>
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= target) reached();
    }),
  );
  return {
    address,
    expect: (bytes) =>
      new Promise<void>((resolve) => {
        received = 0;
        target = bytes;
        reached = resolve;
      }),
  };
}

/** Round trips/s and p50/p99 (ms) of `pingConnections` connections, each with one 64-byte ping in flight. */
async function pingPong(address: string): Promise<{ perSec: number; p50: number; p99: number }> {
  const sockets = [];
  for (let i = 0; i < pingConnections; i++) sockets.push(await dial(address));
  const rtts: number[] = [];
  const ping = Buffer.alloc(64, 1);
  const until = performance.now() + pingSeconds * 1000;
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          let sentAt = performance.now();
          let got = 0;
          socket.on('data', (chunk: Buffer) => {
            got += chunk.length;
            if (got < ping.length) return;
            got -= ping.length;
            const now = performance.now();
            rtts.push(now - sentAt);
            if (now >= until) return resolve();
            sentAt = now;
            socket.write(ping);
          });
          socket.once('close', () => resolve());
          socket.write(ping);
        }),
    ),
  );
  for (const socket of sockets) socket.destroy();
  rtts.sort((a, b) => a - b);
  const at = (q: number) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))]!;
  return { perSec: rtts.length / pingSeconds, p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const sink = await startSink();
  const echo = await listen((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
  const proxyProcess = await spawnToxiproxy();
  try {
    const client = new Toxiproxy(proxyProcess.url);
    const toSink = await client.createProxy({ name: 'sink', listen: '127.0.0.1:0', upstream: sink.address });
    const toEcho = await client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: echo });
    const lines = [`machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`];
    lines.push(`bulk, 1 connection, ${bulkBytes / 1024 / 1024} MiB:`);
    lines.push(`  direct                     ${(await bulk(sink.address, sink)).toFixed(0)} MB/s`);
    lines.push(`  proxied, no toxic          ${(await bulk(toSink.listen, sink)).toFixed(0)} MB/s`);
    const lag = await toSink.addToxic({
      name: 'lag',
      type: 'latency',
      stream: 'upstream',
      toxicity: 1,
      attributes: { latency: 100, jitter: 0 },
    });
    lines.push(`  proxied, latency 100 ms    ${(await bulk(toSink.listen, sink)).toFixed(0)} MB/s`);
    await lag.remove();
    lines.push(`ping-pong, ${pingConnections} connections, 64 B, ${pingSeconds} s:`);
    for (const [name, address] of [
      ['direct', echo],
      ['proxied', toEcho.listen],
    ] as const) {
      const { perSec, p50, p99 } = await pingPong(address);
      lines.push(
        `  ${name.padEnd(9)} ${perSec.toFixed(0).padStart(8)} round trips/s   p50 ${p50.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms`,
      );
    }
    console.log(lines.join('\n'));
  } finally {
    await proxyProcess.stop();
  }
}

await main();
