// The live HTTP readers against a small real HTTP server: what each page asked and got goes into the
// history as the simulator records it, pages are followed while the answer says there is more (by
// `more`, or without it by `lastSeq`), no answer is status 0, and the reads sent malformed on purpose
// carry their malformed text.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../history.ts';
import { SeedStreams } from '../kernel/prng.ts';
import { TokenCache } from './hs256.ts';
import { scheduleLiveHttpReads } from './live-http-reads.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** Serves conv `g` holding seqs 1..lastSeq; `more` in the answer unless `withMore` is false. */
async function pageServer(lastSeq: number, withMore: boolean): Promise<{ url: string; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    asked.push(`${url.pathname}?${url.searchParams}`);
    const after = Number(url.searchParams.get('after'));
    const limit = Number(url.searchParams.get('limit'));
    const seqs = [];
    for (let seq = after + 1; seq <= Math.min(lastSeq, after + limit); seq++) seqs.push(seq);
    const messages = seqs.map((seq) => ({
      conv: 'g',
      seq,
      from: 'ann',
      cmid: `c${seq}`,
      body: 'b',
      ts: seq,
    }));
    const more = seqs.length > 0 && seqs[seqs.length - 1]! < lastSeq;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(withMore ? { messages, lastSeq, more } : { messages, lastSeq }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

const readersAtOnce = 16;

/** Runs the readers of churn (httpReadsPerMin 120) over one minute at once; returns what they recorded. */
async function readAll(url: string): Promise<HistoryEvent[]> {
  const scenario = loadScenario('churn');
  const events: HistoryEvent[] = [];
  const due: (() => void)[] = [];
  const reads = scheduleLiveHttpReads(scenario, new SeedStreams(1), {
    urls: [url],
    tokens: new TokenCache('live-http-reads-test-secret-0123456789', 3600),
    record: (event) => events.push(event),
    now: () => 0,
    at: (_ms, run) => due.push(run),
    fromMs: 0,
    untilMs: 60_000,
    readers: ['ann', 'bob'],
    convsOf: () => ['g'],
  });
  // A few readers at a time: a minute's readers all at once time out on a loaded box (load 20: up to half
  // of them got no answer within the reader's 10 s, before the malformed reads were added as well).
  for (let i = 0; i < due.length; i += readersAtOnce) {
    for (const run of due.slice(i, i + readersAtOnce)) run();
    await reads.idle();
  }
  return events;
}

describe('live HTTP readers', () => {
  it('record each page asked and answered, following it while the answer says more', async () => {
    const { url, asked } = await pageServer(30, true);
    const events = await readAll(url);
    const sent = events.filter((e) => e.k === 'http-read-sent');
    const answered = events.filter((e) => e.k === 'http-read');
    // About 120 readers in the minute, each following its pages up to 8.
    expect(sent.length).toBeGreaterThan(60);
    expect(answered.length).toBe(sent.length);
    expect(asked.length).toBe(sent.length);
    for (const answer of answered) expect(answer).toMatchObject({ status: 200, lastSeq: 30 });
    const followed = sent.filter((e) => e.k === 'http-read-sent' && e.after >= 24);
    expect(followed.length).toBeGreaterThan(0);
    const first = sent[0] as Extract<HistoryEvent, { k: 'http-read-sent' }>;
    const page = answered.find((e) => e.k === 'http-read' && e.id === first.id);
    expect(page).toMatchObject({
      seqs: Array.from({ length: first.limit }, (_, i) => first.after + 1 + i).filter((s) => s <= 30),
    });
  });

  it('sends an eighth as many reads malformed on purpose, each recorded with the text it carried', async () => {
    const { url, asked } = await pageServer(30, true);
    const events = await readAll(url);
    const sent = events.filter((e) => e.k === 'http-read-sent');
    const bad = sent.filter((e) => e.k === 'http-read-sent' && e.malformed !== undefined);
    expect(bad.length).toBeGreaterThan(5);
    expect(bad.length).toBeLessThan(sent.length / 3);
    for (const read of bad)
      if (read.k === 'http-read-sent')
        expect(asked.some((query) => query.includes(read.malformed!))).toBe(true);
  });

  it('without `more` follows by lastSeq and records no `more`', async () => {
    const { url } = await pageServer(30, false);
    const events = await readAll(url);
    const answered = events.filter((e) => e.k === 'http-read');
    expect(answered.every((e) => !('more' in e))).toBe(true);
    expect(events.filter((e) => e.k === 'http-read-sent' && e.after >= 24).length).toBeGreaterThan(0);
  });

  it('records no answer as status 0', async () => {
    const { url } = await pageServer(30, true);
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    const events = await readAll(url);
    const answered = events.filter((e) => e.k === 'http-read');
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((e) => e.k === 'http-read' && e.status === 0)).toBe(true);
  });
});
