// `chatsim serve --cost-meter FILE` times a real node's steps by kind: a client's hello and sync show
// up in the file as the kinds they are, with their time and effects, and the last reading is written
// at the drain. (The fit and the calibration command are tested in capacity/.)

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clientFrame } from '../../simulator/client/wire.ts';
import { ChatClient } from '../../test-support/chat-client.ts';
import { ChildServer } from '../../test-support/child-server.ts';
import { mintToken } from './auth.ts';
import type { CostMeterReading } from './cost-meter.ts';

const secret = 'cost-meter-secret-0123456789abcdef0123';
let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('serve --cost-meter', () => {
  it('writes the steps it timed, by kind, and a last reading at the drain', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatsim-cost-meter-'));
    const file = join(dir, 'meter.json');
    const server = await ChildServer.start({
      dataDir: join(dir, 'data'),
      secret,
      extraArgs: ['--cost-meter', file],
    });
    const client = await ChatClient.connect(server.wsUrl);
    await client.hello(await mintToken(secret, { sub: 'u1' }));
    for (let i = 0; i < 3; i++) client.send(clientFrame.sync('nowhere', 0));
    await client.next((f) => f.t === 'err');
    await client.close();
    const exit = await server.stop('SIGTERM');
    expect(exit.code).toBe(0);
    const reading = JSON.parse(await readFile(file, 'utf8')) as CostMeterReading;
    const steps = (kind: string) => reading.steps[reading.kinds.indexOf(kind as never)]!;
    expect(steps('open')).toBe(1);
    expect(steps('hello')).toBe(1);
    expect(steps('verified')).toBe(1);
    expect(steps('sync')).toBe(3);
    expect(steps('gone')).toBe(1);
    const us = (kind: string) => reading.stepUs[reading.kinds.indexOf(kind as never)]!;
    expect(us('hello')).toBeGreaterThan(0);
    // The welcome went to one connection: one frame, one recipient, counted on the verified step.
    const verified = reading.featureSums[reading.kinds.indexOf('verified')]!;
    expect(verified[reading.features.indexOf('recipient')]).toBeGreaterThanOrEqual(1);
    expect(reading.meteredMs).toBeGreaterThan(0);
    expect(reading.eluActiveMs).toBeGreaterThan(0);
  }, 60_000);
});
