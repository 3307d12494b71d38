// Micro-benchmark of the embedded log store: appends/s with fdatasync before every ack, at
// concurrency 1, 16 and 256, and how many fsyncs/s group commit needed for them. A plain script:
//   node --import tsx bench/log-store.bench.ts [--seconds N] [--dir PATH]
// --dir picks the file system measured (default: the OS temp dir); figures depend on that disk.

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LogStore } from '../reference-server/store/log-store.ts';

const concurrencies = [1, 16, 256];
/** Seconds per concurrency level, and the most a run may ask for (the box is shared). */
const secondsDefault = 3;
const secondsMax = 60;
const bodyBytes = 64;

const { values } = parseArgs({ options: { seconds: { type: 'string' }, dir: { type: 'string' } } });
const seconds = Math.min(secondsMax, Math.max(0.5, Number(values.seconds ?? secondsDefault)));
const parent = values.dir ?? tmpdir();

type Figures = {
  concurrency: number;
  appendsPerSec: number;
  fsyncsPerSec: number;
  recordsPerFsync: number;
  p99Ms: number;
};

async function measure(concurrency: number): Promise<Figures> {
  const dir = await mkdtemp(join(parent, 'chatsim-log-bench-'));
  let fsyncs = 0;
  let records = 0;
  const store = new LogStore({
    dir,
    onFsync: (_ms, n) => {
      fsyncs++;
      records += n;
    },
  });
  try {
    await store.open();
    const members = Array.from({ length: concurrency }, (_, i) => `u${i}`);
    await store.createConversation({ id: 'bench', kind: 'group', members });
    const body = 'x'.repeat(bodyBytes);
    const latencies: number[] = [];
    fsyncs = 0;
    records = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    let appends = 0;
    await Promise.all(
      members.map(async (from) => {
        for (let k = 0; performance.now() < deadline; k++) {
          const sent = performance.now();
          await store.append({ conv: 'bench', from, cmid: `c${k}`, body, ts: Date.now() });
          latencies.push(performance.now() - sent);
          appends++;
        }
      }),
    );
    const elapsedSec = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      concurrency,
      appendsPerSec: appends / elapsedSec,
      fsyncsPerSec: fsyncs / elapsedSec,
      recordsPerFsync: fsyncs === 0 ? 0 : records / fsyncs,
      p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0,
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(
  `log-store bench: ${seconds}s per level, ${bodyBytes}-byte bodies, dir ${parent}, node ${process.version}, ` +
    `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}`,
);
console.log('concurrency  appends/s  fsyncs/s  records/fsync  ack p99 ms');
for (const concurrency of concurrencies) {
  const f = await measure(concurrency);
  console.log(
    `${String(f.concurrency).padStart(11)}  ${f.appendsPerSec.toFixed(0).padStart(9)}  ` +
      `${f.fsyncsPerSec.toFixed(0).padStart(8)}  ${f.recordsPerFsync.toFixed(1).padStart(13)}  ${f.p99Ms.toFixed(2).padStart(10)}`,
  );
}
