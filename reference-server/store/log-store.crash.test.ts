// Crash test of the log store at process level: a child appends with many concurrent writers and
// prints each ack; the parent SIGKILLs it at a random moment, reopens the dir and checks that every
// acked message is there with its seq and body, seqs gap-free. Several rounds share one dir.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { scriptEntry, throughTsx } from '../../simulator/live/serve-bundle.ts';
import type { Message } from '../protocol/frames.ts';
import { LogStore } from './log-store.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const rounds = 3;
/** Acks to wait for before the kill, drawn per round (the moment is random, the bound is not). */
const acksBeforeKillMax = 3000;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

type Ack = { cmid: string; seq: number; body: string };

/** Node's arguments that run the child: bundled once per test process, through tsx only if that fails. */
let childArgs: string[] = [];
beforeAll(async () => {
  const entry = await scriptEntry('log-store-crash-child', 'reference-server/store/log-store-crash-child.ts');
  childArgs = throughTsx(entry) ? ['--import', 'tsx', entry] : [entry];
});

/** Runs one child until it has printed `killAfter` acks, SIGKILLs it, and returns what it printed. */
function runUntilKilled(
  dir: string,
  round: number,
  killAfter: number,
): Promise<{ acks: Ack[]; dups: Ack[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childArgs, dir, String(round)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const acks: Ack[] = [];
    const dups: Ack[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, , cmid, seq, ...rest] = line.split(' ');
        if (kind === 'ack') acks.push({ cmid: cmid!, seq: Number(seq), body: rest.join(' ') });
        if (kind === 'dup') dups.push({ cmid: cmid!, seq: Number(seq), body: '' });
      }
      if (!killed && acks.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ acks, dups });
      else reject(new Error(`child exited with ${code} before the kill (${acks.length} acks): ${stderr}`));
    });
  });
}

async function readAll(store: LogStore): Promise<{ messages: Message[]; lastSeq: number }> {
  const messages: Message[] = [];
  for (;;) {
    const result = await store.read({ conv: 'g', after: messages.length, limit: 500 });
    if (result.status !== 'ok') throw new Error(`read: ${result.status}`);
    messages.push(...result.messages);
    if (result.messages.length === 0) return { messages, lastSeq: result.lastSeq };
  }
}

it('keeps every acked message, gap-free, across SIGKILLs at random moments', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chatsim-log-crash-'));
  dirs.push(dir);
  const acked = new Map<string, Ack>();
  for (let round = 0; round < rounds; round++) {
    const killAfter = 1 + Math.floor(Math.random() * acksBeforeKillMax);
    const { acks, dups } = await runUntilKilled(dir, round, killAfter);
    const context = `round ${round}, killed after ${killAfter} acks (saw ${acks.length})`;
    expect(acks.length, context).toBeGreaterThanOrEqual(killAfter);
    for (const ack of acks) acked.set(ack.cmid, ack);
    for (const dup of dups)
      expect(dup.seq, `${context}: retry of ${dup.cmid}`).toBe(acked.get(dup.cmid)?.seq);

    const store = new LogStore({ dir });
    await store.open();
    const { messages, lastSeq } = await readAll(store);
    await store.close();
    expect(
      messages.map((m) => m.seq),
      context,
    ).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    const bySeq = new Map(messages.map((m) => [m.seq, m]));
    for (const ack of acked.values()) {
      const stored = bySeq.get(ack.seq);
      expect({ cmid: stored?.cmid, body: stored?.body }, `${context}: ${ack.cmid}`).toEqual({
        cmid: ack.cmid,
        body: ack.body,
      });
    }
  }
});
