// The 4400 close of protocol.md's error codes: "The 11th on one connection closes it with 4400". The
// adversary's malformed-text sends the bound's bad frames (10, each owed `bad_request`) on a connection,
// then one more, owed close 4400; authorization fails a server that closes before the 11th (3c0f288
// seed-3 sample mutants 277, closing at the first, and 278, at the 10th) or that answers the 11th.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import { CloseCode, ErrorCode } from '../reference-server/protocol/codes.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

/**
 * The count a node keeps for frames that parse but are bad (a second hello, a watch past the bound)
 * closes at the bound's own frame, while the parser's count is right (74bbde3 seed-5 sample mutant 315):
 * the adversary's repeated-hello makes its 10th and 11th bad frames second hellos.
 */
class DispatcherClosesAtTheBound extends ChatNode {}
Object.defineProperty(DispatcherClosesAtTheBound.prototype, 'bad', {
  value(
    this: {
      stats: { badFrames: number };
      limits: { badFramesMax: number };
      close(conn: unknown, code: number, reason: string): void;
      err(conn: number, code: string, message: string, ref: string): void;
    },
    conn: { id: number; badFrames: number },
    message: string,
    ref: string,
  ): void {
    this.stats.badFrames++;
    if (++conn.badFrames >= this.limits.badFramesMax)
      this.close(conn, CloseCode.tooManyBadFrames, 'too many bad frames');
    else this.err(conn.id, ErrorCode.badRequest, message, ref);
  },
});

const seed = 1;
const clients = 150;
const simTimeoutMs = 300_000;

describe('bad frames past the bound (adversarial)', () => {
  it(
    'the reference server answers ten and closes the connection 4400 at the 11th, and the run passes',
    async () => {
      const summary = await runScenario(loadScenario('adversarial'), { seed, clients });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('pass');
      expect(verdict.details).toMatch(/closed:4400/);
      expect(summary.exitCode).toBe(0);
    },
    simTimeoutMs,
  );

  // The deviant nodes keep a bound of their own; the harness holds them to the scenario's (protocol.md's 10).
  it.each([
    ['closes at the first bad frame', 0, /closed 4400 before the answer to a bad frame within the bound/],
    ['closes at the 10th', 9, /closed 4400 before the answer to a bad frame within the bound/],
    [
      'never closes',
      1000,
      /one bad frame past the bound on a connection and got `bad_request`, not close 4400/,
    ],
  ] as const)(
    'fails a server that %s',
    async (_, badFramesMax, why) => {
      const summary = await runScenario(loadScenario('adversarial'), {
        seed,
        clients,
        chatNode: (options) => new ChatNode({ ...options, limits: { ...options.limits, badFramesMax } }),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(JSON.stringify(verdict)).toMatch(why);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    'fails a server whose count of frames that parse but are bad (a second hello) closes at the 10th',
    async () => {
      const summary = await runScenario(loadScenario('adversarial'), {
        seed,
        clients,
        chatNode: (options) => new DispatcherClosesAtTheBound(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(JSON.stringify(verdict)).toMatch(
        /closed 4400 before the answer to a bad frame within the bound/,
      );
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
