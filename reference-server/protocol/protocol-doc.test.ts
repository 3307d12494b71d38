// Keeps docs/protocol.md, the repository's copy of the contract, in step with the protocol code: every
// frame type the code knows is in the doc's frame tables and no other, and every error and close code
// is described. The type-indexed records below fail to compile when a frame type is added to
// frames.ts without being listed here, so the doc cannot silently fall behind.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from './codes.ts';
import type { ClientFrame, ServerFrame } from './frames.ts';
import { protocolLimits } from './limits.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

const clientTypes: Record<ClientFrame['t'], true> = {
  hello: true,
  send: true,
  sync: true,
  delivered: true,
  read: true,
  typing: true,
  watch: true,
};
const serverTypes: Record<ServerFrame['t'], true> = {
  welcome: true,
  ack: true,
  msg: true,
  batch: true,
  notify: true,
  receipt: true,
  typing: true,
  presence: true,
  err: true,
  drain: true,
};

/** The `t` values in the first column of the table under `heading` (the header row, `t`, left out). */
function tableTypes(heading: string): string[] {
  const start = doc.indexOf(`## ${heading}`);
  expect(start, `docs/protocol.md has a "${heading}" section`).toBeGreaterThanOrEqual(0);
  const section = doc.slice(start, doc.indexOf('\n## ', start + 3));
  return [...section.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]!).filter((t) => t !== 't');
}

describe('docs/protocol.md', () => {
  it('lists exactly the client frame types the code knows', () => {
    expect(tableTypes('What a client sends').sort()).toEqual(Object.keys(clientTypes).sort());
  });

  it('lists exactly the server frame types the code knows', () => {
    expect(tableTypes('What a server sends').sort()).toEqual(Object.keys(serverTypes).sort());
  });

  it('describes every error code and close code', () => {
    for (const code of Object.values(ErrorCode)) expect(doc, code).toContain(`\`${code}\``);
    for (const code of Object.values(CloseCode))
      expect(doc, String(code)).toMatch(new RegExp(`\\b${code}\\b`));
  });

  it('states the protocol-fixed bounds the code enforces', () => {
    expect(protocolLimits.frameBytesMax).toBe(64 * 1024);
    expect(doc).toContain('64 KiB');
    expect(doc).toContain(`${protocolLimits.bodyBytesMax} UTF-8 bytes`);
    expect(doc).toContain(`1 to ${protocolLimits.syncLimitMax}`);
    expect(doc).toContain(`at most ${protocolLimits.watchUsersMax} ids`);
    expect(doc).toContain(`1 to ${protocolLimits.idLengthMax} characters`);
  });

  it('carries the v1.1 additions', () => {
    expect(doc).toContain('## Version 1.1 additions');
    for (const text of ['`member: false`', '`conv` on `err`', '`tp`']) expect(doc).toContain(text);
  });
});
