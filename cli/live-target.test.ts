// The repro command of a live run names every target flag the run was judged with: a repro of a run
// against --server-cmd or --url without the --large-group-threshold it had would not judge delivery mode,
// and a failure of delivery mode would not reproduce (session 21: `gate --live` against
// `serve --bug no-receipts` printed such repro commands).

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { type LiveFlags, makeTarget, targetReproFlags } from './live.ts';

const io = { out: () => {}, err: () => {}, env: {} };
const steady = loadScenario('steady');
const serverCmd = 'my-server --port {port} --data {dataDir}';

async function repro(flags: Partial<LiveFlags>): Promise<string> {
  const all = { url: [], bug: [], jwtSecret: 'secret-0123456789', ...flags } as LiveFlags;
  return targetReproFlags(await makeTarget(steady, all, io), all);
}

describe('a live target in a repro command', () => {
  it('carries the large-group threshold the user gave', async () => {
    expect(await repro({ serverCmd, largeGroupThreshold: 300 })).toBe(
      `--server-cmd ${JSON.stringify(serverCmd)} --jwt-secret "$CHAT_JWT_SECRET" --large-group-threshold 300`,
    );
    expect(await repro({ url: ['http://127.0.0.1:9000'], largeGroupThreshold: 50 })).toBe(
      '--url http://127.0.0.1:9000 --large-group-threshold 50',
    );
  });

  it('names none when none was given', async () => {
    expect(await repro({ serverCmd })).toBe(
      `--server-cmd ${JSON.stringify(serverCmd)} --jwt-secret "$CHAT_JWT_SECRET"`,
    );
  });
});
