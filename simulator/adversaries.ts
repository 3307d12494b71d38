// Adversarial clients: users who present forged tokens, or who send to and sync conversations they are
// not in, and push their own cursors backwards and past lastSeq in the one they are in (a direct
// conversation with an honest user, made here before the nodes boot). Each attempt is recorded with
// its outcome; the authorization and cursor checkers demand that every one was refused or clamped.

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
    const convs: string[] = [];
    if (!forged) {
      // A conversation of its own, so its cursors exist to be pushed around; the partner writes to it.
      const partner = n % population.users.length;
      const conv = `a${n}`;
      const members = [user, population.users[partner]!];
      world.store.state.create({ id: conv, kind: 'direct', members });
      record({ k: 'conv', at: 0, conv, kind: 'direct', members });
      population.convsOfUser[partner]!.push(conv);
      convs.push(conv);
    }
    const client = new VirtualClient({
      user,
      device: `${user}-d0`,
      rng: () => prng.float(),
      // A valid token for its sessions; forged ones come from badToken, one attempt at a time.
      token: (now: number) => world.tokens.mint(user, now + tokenLifeMs),
      badToken: (now: number) => world.tokens.forge(user, now + tokenLifeMs),
      record,
      attemptId,
      config: {
        adversary: forged ? ['forged-token'] : ['foreign-send', 'foreign-sync', 'cursor-regression'],
        foreignConvs,
      },
    });
    world.addClient({ client, user, device: `${user}-d0`, home: n, convs, adversary: true, left: false });
  }
}
