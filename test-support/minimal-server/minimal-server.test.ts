// The minimal server's own parts: it shares nothing with the reference server (so it is a second
// implementation, not a copy), its journal gates every output behind the fsync and replays to the same
// state, and its token check accepts exactly protocol.md's tokens. Protocol behaviour is proved by the
// conformance suite, which runs against it (reference-server/conformance, target 'minimal').

import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { importsOf, sourcesIn } from '../sans-io.ts';
import { mintTestToken } from '../tokens.ts';
import { Journal, journalFileName } from './journal.ts';
import { asRecord, ChatState, type JournalRecord } from './state.ts';
import { verifyToken } from './token.ts';

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'minimal-server-'));
  dirs.push(dir);
  return dir;
}

async function openInto(state: ChatState, dir: string | undefined): Promise<Journal> {
  return Journal.open(
    dir,
    (record) => state.apply(asRecord(record)),
    (error) => {
      throw error;
    },
  );
}

const records: JournalRecord[] = [
  { k: 'conv', id: 'c1', kind: 'group', members: ['alice', 'bob'] },
  { k: 'msg', conv: 'c1', seq: 1, from: 'alice', cmid: 'm1', body: 'one', ts: 10 },
  { k: 'members', conv: 'c1', add: ['carol'], remove: ['bob'] },
  { k: 'msg', conv: 'c1', seq: 2, from: 'carol', cmid: 'm2', body: 'two', ts: 11 },
  { k: 'cursor', conv: 'c1', user: 'alice', kind: 'read', seq: 2 },
];

describe('the minimal server is a second implementation', () => {
  it('imports nothing from reference-server/ or simulator/', () => {
    const files = sourcesIn(here);
    expect(files.some((file) => file.endsWith('sessions.ts'))).toBe(true);
    for (const file of files)
      for (const path of importsOf(file)) expect(path, file).toMatch(/^(\.\/|node:|ws$)/);
  });
});

describe('journal', () => {
  it('holds every output until what was appended before it is fsynced, in order', async () => {
    const state = new ChatState();
    const journal = await openInto(state, await tempDir());
    const ran: string[] = [];
    journal.gate(() => ran.push('before any record'));
    expect(ran).toEqual(['before any record']);
    state.apply(records[0]!);
    journal.append(records[0]!);
    journal.gate(() => ran.push('after the record'));
    journal.gate(() => ran.push('behind it'));
    expect(ran).toEqual(['before any record']);
    await journal.idle();
    expect(ran).toEqual(['before any record', 'after the record', 'behind it']);
    await journal.close();
  });

  it('replays to the same state, readable spans and idempotency keys included', async () => {
    const dir = await tempDir();
    const live = new ChatState();
    const journal = await openInto(live, dir);
    for (const record of records) {
      live.apply(record);
      journal.append(record);
    }
    await journal.close();
    const replayed = new ChatState();
    await (await openInto(replayed, dir)).close();
    const c = replayed.get('c1')!;
    expect(c.lastSeq).toBe(2);
    expect([...c.members].sort()).toEqual(['alice', 'carol']);
    expect(c.readable('bob', 0, 10).msgs.map((m) => m.seq)).toEqual([1]);
    expect(c.readable('carol', 0, 10).msgs.map((m) => m.seq)).toEqual([2]);
    expect(c.mayRead('bob')).toBe(true);
    expect(c.mayRead('dave')).toBe(false);
    expect(c.seqOf('carol', 'm2')).toBe(2);
    expect(c.cursorsOf('alice')).toEqual({ delivered: 0, read: 2 });
    expect(replayed.currentConvs('bob')).toEqual([]);
  });

  it('cuts a torn last line (a write a crash interrupted, never acknowledged) and appends after it', async () => {
    const dir = await tempDir();
    const path = join(dir, journalFileName);
    await writeFile(path, `${JSON.stringify(records[0])}\n{"k":"msg","conv":"c1","se`);
    const state = new ChatState();
    const journal = await openInto(state, dir);
    expect(state.get('c1')?.lastSeq).toBe(0);
    state.apply(records[1]!);
    journal.append(records[1]!);
    await journal.close();
    expect(await readFile(path, 'utf8')).toBe(
      `${JSON.stringify(records[0])}\n${JSON.stringify(records[1])}\n`,
    );
  });

  it('refuses to open a journal damaged before its last line, naming the line', async () => {
    const dir = await tempDir();
    await appendFile(join(dir, journalFileName), `${JSON.stringify(records[0])}\nnot json\n`);
    await expect(openInto(new ChatState(), dir)).rejects.toThrow(/line 2 is not JSON/);
  });

  it('refuses a record that does not fit the state (a seq gap)', async () => {
    const dir = await tempDir();
    const gap = { ...records[1], seq: 3 };
    await appendFile(join(dir, journalFileName), `${JSON.stringify(records[0])}\n${JSON.stringify(gap)}\n`);
    await expect(openInto(new ChatState(), dir)).rejects.toThrow(/seq 3 after 0/);
  });

  it('keeps nothing and gates nothing without a data dir', async () => {
    const journal = await openInto(new ChatState(), undefined);
    journal.append(records[0]!);
    let ran = false;
    journal.gate(() => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});

describe('token', () => {
  const secret = 'minimal-token-secret';
  it('accepts an HS256 token with sub and a future exp, and reads the admin role', async () => {
    expect(verifyToken(await mintTestToken(secret, 'alice'), secret, Date.now())).toEqual({
      user: 'alice',
      admin: false,
    });
    expect(verifyToken(await mintTestToken(secret, 'root', { admin: true }), secret, Date.now())).toEqual({
      user: 'root',
      admin: true,
    });
  });

  it('refuses other secrets, expired tokens, missing subjects, non-ids and garbage', async () => {
    const now = Date.now();
    const refused = async (token: unknown) => 'refused' in verifyToken(token, secret, now);
    expect(await refused(await mintTestToken(secret, 'alice', { secret: 'other' }))).toBe(true);
    expect(await refused(await mintTestToken(secret, 'alice', { expiresInSec: -1 }))).toBe(true);
    expect(await refused(await mintTestToken(secret, 'alice', { noSubject: true }))).toBe(true);
    expect(await refused(await mintTestToken(secret, 'not an id'))).toBe(true);
    for (const garbage of ['', 'a.b', 'a.b.c', 42, null]) expect(await refused(garbage)).toBe(true);
    const valid = await mintTestToken(secret, 'alice');
    const [header, payload] = valid.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(await refused(none)).toBe(true);
    expect(await refused(`${header}.${payload}.${'A'.repeat(43)}`)).toBe(true);
  });
});
