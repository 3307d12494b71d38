// Adversarial clients: users with forged tokens, or with valid tokens who send to, sync and move
// cursors in conversations they are not in. Each attempt is recorded with its outcome; the
// authorization checker demands that every one was refused.

import { VirtualClient } from './client/virtual-client.ts';
import type { HistoryEvent } from './history.ts';
import type { SeedStreams } from './kernel/prng.ts';
import type { Population } from './population.ts';
import type { World } from './world/world.ts';

export function addAdversaries(
  world: World,
  population: Population,
  streams: SeedStreams,
  record: (event: HistoryEvent) => void,
  tokenLifeMs: number,
): void {
  const pick = streams.stream('adversaries');
  const allConvs = [...new Set(population.convsOfUser.flat())];
  let attempts = 0;
  const attemptId = (): number => ++attempts;
  for (let n = 0; n < population.adversaries; n++) {
    const user = `x${n}`;
    const forged = n % 4 === 0;
    const foreignConvs =
      allConvs.length === 0 ? [] : Array.from({ length: 3 }, () => allConvs[pick.int(allConvs.length)]!);
    const prng = streams.stream('adversary', n);
    const client = new VirtualClient({
      user,
      device: `${user}-d0`,
      rng: () => prng.float(),
      token: (now: number) =>
        forged ? world.tokens.forge(user, now + tokenLifeMs) : world.tokens.mint(user, now + tokenLifeMs),
      badToken: (now: number) => world.tokens.forge(user, now + tokenLifeMs),
      record,
      attemptId,
      config: {
        adversary: forged ? ['forged-token'] : ['foreign-send', 'foreign-sync', 'cursor-regression'],
        foreignConvs,
      },
    });
    world.addClient({ client, user, device: `${user}-d0`, home: n, convs: [], adversary: true, left: false });
  }
}
