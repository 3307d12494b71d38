// The raw `ws` side of the delivery benchmark (delivery-beside-raw.ts), in a child process as the live
// driver's generators are: `rooms` rooms of `roomSize` connections on the bare broadcast server, one
// message per scheduled slot at `ratePerSec` in all (open model: each frame carries the time it was
// scheduled, so a late sender cannot hide latency), and every other member of the room records
// receive time minus scheduled time. No parse beyond the frame's JSON, no store, no order buffer:
// the floor a chat server's end-to-end delivery is compared with. Also times opening the sockets.
// Argument: the options as JSON. Prints one line `raw-delivery: {...}` and exits.

import { WebSocket } from 'ws';
import { LatencyHistogram } from './latency-histogram.ts';
import { benchLimits } from './limits.ts';
import type { RawDeliveryFigures, RawDeliveryOptions } from './raw-delivery.ts';

async function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function run(options: RawDeliveryOptions): Promise<RawDeliveryFigures> {
  const total = options.rooms * options.roomSize;
  const sockets: WebSocket[] = new Array(total);
  const openStart = performance.now();
  for (let next = 0; next < total; ) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < benchLimits.connectConcurrency && next < total; i++, next++) {
      const index = next;
      const room = Math.floor(index / options.roomSize);
      batch.push(
        open(`${options.url}/?room=r${room}`).then((socket) => {
          sockets[index] = socket;
        }),
      );
    }
    await Promise.all(batch);
  }
  const connectMs = performance.now() - openStart;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const openMemory = process.memoryUsage();
  const histogram = new LatencyHistogram();
  let deliveries = 0;
  const measureFrom = performance.now() + options.warmupSeconds * 1000;
  const end = measureFrom + options.seconds * 1000;
  let expected = 0;
  sockets.forEach((socket, index) => {
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { from: number; at: number };
      if (frame.from === index || frame.at < measureFrom) return;
      deliveries++;
      histogram.recordMs(performance.now() - frame.at);
    });
  });
  const body = 'x'.repeat(benchLimits.bodyBytes);
  const intervalMs = 1000 / options.ratePerSec;
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Every slot that fell due is sent now, stamped with its scheduled time (open model).
      for (let due = start + sent * intervalMs; due <= now && due < end; due = start + sent * intervalMs) {
        const from = (sent * 7919) % total;
        sockets[from]!.send(JSON.stringify({ from, at: due, body }));
        if (due >= measureFrom) expected += options.roomSize - 1;
        sent++;
      }
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const drainUntil = performance.now() + benchLimits.drainMs;
  while (deliveries < expected && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  for (const socket of sockets) socket.terminate();
  return {
    connections: total,
    connectsPerSec: total / (connectMs / 1000),
    openRssBytes: openMemory.rss,
    openHeapUsedBytes: openMemory.heapUsed,
    sent,
    deliveries,
    missing: expected - deliveries,
    p50: histogram.percentileMs(50),
    p99: histogram.percentileMs(99),
    p999: histogram.percentileMs(99.9),
  };
}

const options = JSON.parse(process.argv[2] ?? '{}') as RawDeliveryOptions;
run(options).then(
  (figures) => {
    process.stdout.write(`raw-delivery: ${JSON.stringify(figures)}\n`);
    process.exit(0);
  },
  (error: Error) => {
    process.stderr.write(`raw-delivery failed: ${error.message}\n`);
    process.exit(1);
  },
);
