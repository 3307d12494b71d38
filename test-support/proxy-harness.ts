// A stream through one proxy of an embedded Toxiproxy server, with toxic changes at chosen points of
// the stream, for the byte-level properties of the toxics: what arrives must be exactly what was sent
// (or an exact prefix of it, for toxics that cut a stream). Everything is driven through
// toxiproxy-node-client; the server and upstream listen on port 0 and are stopped by the caller.

import fc from 'fast-check';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startToxiproxyServer, type ToxiproxyServer } from '../chaos/toxiproxy-server.ts';
import { connectTo, startUpstream, type Upstream, writeChunks } from './tcp-fixture.ts';

export type Stream = 'upstream' | 'downstream';
export type ToxicBody = {
  name: string;
  type: string;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, number>;
};
/** A toxic change between two chunks of the stream. */
export type Change =
  | { at: number; op: 'add'; toxic: ToxicBody }
  | { at: number; op: 'update'; name: string; toxicity: number; attributes: Record<string, number> }
  | { at: number; op: 'remove'; name: string };

export type Harness = {
  server: ToxiproxyServer;
  client: Toxiproxy;
  upstream: Upstream;
  proxyName: string;
  listen: string;
  close(): Promise<void>;
};

export async function startHarness(): Promise<Harness> {
  const server = await startToxiproxyServer({ port: 0 });
  const upstream = await startUpstream();
  const client = new Toxiproxy(server.url);
  const proxy = await client.createProxy({
    name: 'under_test',
    listen: 'localhost:0',
    upstream: upstream.address,
  });
  return {
    server,
    client,
    upstream,
    proxyName: proxy.name,
    listen: proxy.listen,
    close: async () => {
      await server.close();
      await upstream.close();
    },
  };
}

/**
 * Sends `chunks` one by one through the proxy in `direction` (client→server for upstream) while the
 * changes run: each starts when the chunk at its index is sent, without waiting for it (changes run
 * in order among themselves), so toxics come and go with data in flight; those at index 0 are in
 * place before the first byte. Then the sending side
 * closes, and this resolves with the bytes the far side read before its stream ended.
 */
export async function streamThrough(
  harness: Harness,
  direction: Stream,
  chunks: readonly Buffer[],
  changes: readonly Change[] = [],
): Promise<Buffer> {
  const proxy = await harness.client.get(harness.proxyName);
  const index = harness.upstream.accepted.length;
  const near = await connectTo(harness.listen);
  const far = await harness.upstream.connection(index);
  const [sender, receiver] = direction === 'upstream' ? [near, far] : [far, near];
  sender.socket.on('error', () => {});
  let applied: Promise<void> = Promise.resolve();
  try {
    for (const change of changes.filter((c) => c.at === 0)) await applyChange(proxy, change);
    for (let i = 0; i <= chunks.length; i++) {
      for (const change of changes.filter((c) => c.at === i && i > 0))
        applied = applied.then(() => applyChange(proxy, change));
      if (i < chunks.length && !sender.socket.destroyed && !sender.socket.writableEnded)
        await writeChunks(sender.socket, [chunks[i]!]).catch(() => {});
      // A pause lets the proxy read each chunk apart, so toxics hold several when they change.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await applied;
    if (!sender.socket.destroyed) sender.socket.end();
    await receiver.ended;
    return receiver.bytes();
  } finally {
    await applied.catch(() => {});
    near.socket.destroy();
    far.socket.destroy();
  }
}

async function applyChange(proxy: Awaited<ReturnType<Toxiproxy['get']>>, change: Change): Promise<void> {
  if (change.op === 'add') await proxy.addToxic(change.toxic as never);
  else {
    const toxic = await proxy.getToxic(change.name);
    if (change.op === 'remove') await toxic.remove();
    else
      await toxic.update({
        ...toxic.toJson(),
        toxicity: change.toxicity,
        attributes: change.attributes,
      } as never);
  }
}

/** Removes every toxic (and re-enables the proxy) between runs. */
export async function resetToxics(harness: Harness): Promise<void> {
  await harness.client.reset();
}

export const chunksArbitrary = (maxChunks = 24, maxBytes = 4096) =>
  fc.array(
    fc.uint8Array({ minLength: 1, maxLength: maxBytes }).map((bytes) => Buffer.from(bytes)),
    { minLength: 1, maxLength: maxChunks },
  );

/** Toxics that never drop, cut or close: whatever they do, every byte must arrive, in order. */
export const passThroughToxic = (name: string, stream: Stream): fc.Arbitrary<ToxicBody> =>
  fc
    .oneof(
      fc
        .record({ latency: fc.integer({ min: 0, max: 20 }), jitter: fc.integer({ min: 0, max: 5 }) })
        .map((a) => ['latency', a] as const),
      fc.record({ rate: fc.integer({ min: 500, max: 10_000 }) }).map((a) => ['bandwidth', a] as const),
      fc.integer({ min: 1, max: 64 }).chain((average) =>
        fc
          .record({
            average_size: fc.constant(average),
            size_variation: fc.integer({ min: 0, max: average }),
            delay: fc.integer({ min: 0, max: 200 }),
          })
          .map((a) => ['slicer', a] as const),
      ),
      fc.record({ delay: fc.integer({ min: 0, max: 20 }) }).map((a) => ['slow_close', a] as const),
      fc.constant(['noop', {}] as const),
    )
    .chain(([type, attributes]) =>
      fc
        .double({ min: 0, max: 1, noNaN: true })
        .map((toxicity) => ({ name, type, stream, toxicity, attributes: { ...attributes } })),
    );

/**
 * Random churn of pass-through toxics in `stream` during a stream of `chunkCount` chunks: adds,
 * updates (toxicity rolls again; attributes of another type are ignored, as Toxiproxy ignores unknown
 * fields) and removes, in a valid order: Toxiproxy's TestNoDataDropped, randomized.
 */
export function churnArbitrary(stream: Stream, chunkCount: number): fc.Arbitrary<Change[]> {
  return fc
    .array(fc.tuple(fc.integer({ min: 0, max: chunkCount }), fc.nat(2), passThroughToxic('x', stream)), {
      maxLength: 8,
    })
    .map((steps) => {
      const live: string[] = [];
      const changes: Change[] = [];
      let serial = 0;
      for (const [at, kind, toxic] of [...steps].sort((a, b) => a[0] - b[0])) {
        if (kind === 0 || live.length === 0) {
          const name = `churn${serial++}`;
          live.push(name);
          changes.push({ at, op: 'add', toxic: { ...toxic, name } });
        } else if (kind === 1) {
          const name = live[serial % live.length]!;
          changes.push({ at, op: 'update', name, toxicity: toxic.toxicity, attributes: toxic.attributes });
        } else {
          const name = live.splice(serial % live.length, 1)[0]!;
          changes.push({ at, op: 'remove', name });
        }
      }
      return changes;
    });
}

export function isPrefix(prefix: Buffer, whole: Buffer): boolean {
  return prefix.length <= whole.length && whole.subarray(0, prefix.length).equals(prefix);
}

/** One harness for a test file: started before its tests, closed after. */
export function useHarness(): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.close());
  return () => harness!;
}

export function toxicBody(
  type: string,
  stream: Stream,
  attributes: Record<string, number>,
  options: { name?: string; toxicity?: number } = {},
): ToxicBody {
  return { name: options.name ?? type, type, stream, toxicity: options.toxicity ?? 1, attributes };
}

/**
 * The property for toxics that never drop a byte: with `toxic` added before the first chunk and
 * random churn around it (and, if `removeHalfway`, the toxic removed mid-stream), every byte arrives in
 * order, in both directions.
 */
export function keepsEveryByte(
  harness: () => Harness,
  toxic: (stream: Stream) => fc.Arbitrary<ToxicBody>,
  options: { removeHalfway?: boolean; maxChunks?: number; numRuns?: number } = {},
): void {
  for (const direction of ['upstream', 'downstream'] as const) {
    it(`keeps every byte in order ${direction}, whatever the chunking, with churn around it`, async () => {
      await fc.assert(
        fc.asyncProperty(
          chunksArbitrary(options.maxChunks ?? 16).chain((chunks) =>
            fc.tuple(fc.constant(chunks), toxic(direction), churnArbitrary(direction, chunks.length)),
          ),
          async ([chunks, body, churn]) => {
            await resetToxics(harness());
            const changes: Change[] = [{ at: 0, op: 'add', toxic: body }, ...churn];
            if (options.removeHalfway)
              changes.push({ at: Math.floor(chunks.length / 2), op: 'remove', name: body.name });
            const received = await streamThrough(harness(), direction, chunks, changes);
            expect(received.equals(Buffer.concat(chunks))).toBe(true);
          },
        ),
        { numRuns: options.numRuns ?? 15 },
      );
    });
  }
}

/** Resets the proxy's toxics, then adds one; returns the client's handle on it. */
export async function freshToxic(harness: Harness, body: ToxicBody) {
  await resetToxics(harness);
  const proxy = await harness.client.get(harness.proxyName);
  return proxy.addToxic(body as never);
}
