import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientFrame, decodeServerFrame, encodeClientFrame } from './wire.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a client frame may be written by hand, and why. */
const handWritten: Record<string, string> = {
  'simulator/client/wire.ts': 'the one encoder',
  'reference-server/': 'the server (its typing frames are server frames)',
  'test-support/minimal-server/': 'a second server written from protocol.md alone, independent by design',
  'test-support/bad-frames.ts': 'malformed and hostile frames, on purpose',
  'simulator/checkers/history-fixture.ts':
    'history events recording server frames a device saw (typing), not client frames',
  'scenarios/k6/': "k6 scripts run inside k6's own runtime and are self-contained",
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

describe('the client wire', () => {
  it('encodes what the builders make and decodes only frames', () => {
    const hello = clientFrame.hello('tok', 'd1', { c1: 3 });
    expect(encodeClientFrame(hello)).toBe('{"t":"hello","token":"tok","device":"d1","resume":{"c1":3}}');
    expect(encodeClientFrame(clientFrame.hello('tok'))).toBe('{"t":"hello","token":"tok"}');
    expect(encodeClientFrame(clientFrame.sync('c', 4))).toBe('{"t":"sync","conv":"c","after":4}');
    expect(encodeClientFrame(clientFrame.sync('c', 4, 10))).toBe(
      '{"t":"sync","conv":"c","after":4,"limit":10}',
    );
    expect(clientFrame.cursor('read', 'c', 2)).toEqual({ t: 'read', conv: 'c', seq: 2 });
    expect(decodeServerFrame('{"t":"ack","conv":"c","cmid":"m","seq":1,"ts":5}')).toMatchObject({
      t: 'ack',
      seq: 1,
    });
    for (const bad of ['not json', '[]', '"ack"', '{}', '{"t":1}', 'null'])
      expect(decodeServerFrame(bad), bad).toBeNull();
  });

  it('is the only place a client frame is built: every client in the repository speaks through it', () => {
    const literal = /\bt: '(hello|sync|delivered|read|watch|typing)'|\bt: 'send', conv/;
    const offenders = sources(root)
      .map((file) => relative(root, file))
      .filter((file) => !Object.keys(handWritten).some((allowed) => file.startsWith(allowed)))
      .filter((file) => literal.test(readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
