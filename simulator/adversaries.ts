// Adversarial clients: users who present forged tokens, or who send to, sync, resume (in `hello`) and
// type in conversations they are not in, sync and send to one no one created, and push their own cursors backwards and past lastSeq in the
// one they are in (a direct conversation with an honest user, made before any client acts); one also
// watches more users on one connection than the reference server allows, and one tries the connection's
// lifecycle: a connection with no hello, frames before the welcome, a close before the token is checked. Each attempt is recorded with
// its outcome; the authorization and cursor checkers demand that every one was refused or clamped.
// `planAdversaries` decides who they are (the simulator and the live driver share it);
// `addAdversaries` puts them into a simulated world.

import { defaultLimits } from '../reference-server/core/limits.ts';
import type { AdversaryBehaviour } from './client/limits.ts';
import { VirtualClient } from './client/virtual-client.ts';
import type { HistoryEvent } from './history.ts';
import type { SeedStreams } from './kernel/prng.ts';
import type { Population } from './population.ts';
import { SimClient } from './world/sim-client.ts';
import type { World } from './world/world.ts';

export type AdversaryPlan = {
  user: string;
  device: string;
  forged: boolean;
  behaviours: AdversaryBehaviour[];
  foreignConvs: string[];
  /** Its own direct conversation with an honest partner (none for a forged-token adversary). */
  conv: { id: string; members: string[] } | null;
};

/** Who the adversaries are; adds each one's own conversation to its partner's list. */
export function planAdversaries(population: Population, streams: SeedStreams): AdversaryPlan[] {
  const pick = streams.stream('adversaries');
  const allConvs = [...new Set(population.convsOfUser.flat())];
  const plans: AdversaryPlan[] = [];
  for (let n = 0; n < population.adversaries; n++) {
    const user = `${population.prefix}x${n}`;
    const forged = n % 4 === 0;
    const foreignConvs =
      allConvs.length === 0 ? [] : Array.from({ length: 3 }, () => allConvs[pick.int(allConvs.length)]!);
    let conv: AdversaryPlan['conv'] = null;
    if (!forged) {
      // A conversation of its own, so its cursors exist to be pushed around; the partner writes to it.
      const partner = n % population.users.length;
      conv = { id: `${population.prefix}a${n}`, members: [user, population.users[partner]!] };
      population.convsOfUser[partner] = [...population.convsOfUser[partner]!, conv.id];
    }
    plans.push({
      user,
      device: `${user}-d0`,
      forged,
      behaviours: forged
        ? ['forged-token']
        : [
            // One is enough, and it closes its connection (a frame past 64 KiB): first, so that it comes
            // before the scenario's faults, which may end a connection before its answer.
            ...(n === 2 ? (['malformed-text'] as const) : []),
            // Its 10th and 11th bad frames second hellos: the count a server keeps after parsing a frame.
            ...(n === 6 ? (['repeated-hello'] as const) : []),
            // The connection's lifecycle (adversary.ts): once per cycle each, on every fourth adversary (a
            // fault that resets one's silent connection leaves the others' to be judged).
            ...(n % 4 === 3
              ? ([
                  'frames-before-welcome',
                  'silent-connection',
                  'leave-before-welcome',
                  'wrong-first-frame',
                ] as const)
              : []),
            'foreign-send',
            'foreign-sync',
            'cursor-regression',
            'foreign-resume',
            'foreign-typing',
            'missing-conv',
            // Once per run is enough (10,001 users watched): the server's bound is the same for all.
            ...(n === 1 ? (['watch-past-bound'] as const) : []),
          ],
      foreignConvs,
      conv,
    });
  }
  return plans;
}

export function addAdversaries(
  world: World,
  population: Population,
  streams: SeedStreams,
  record: (event: HistoryEvent) => void,
  tokenLifeMs: number,
): void {
  let attempts = 0;
  const attemptId = (): number => ++attempts;
  const plans = planAdversaries(population, streams);
  // One user past the bound the simulated nodes apply (the scenario's, else the reference server's).
  const watchPastBoundUsers =
    (world.options.limits.watchedUsersPerConnMax ?? defaultLimits.watchedUsersPerConnMax) + 1;
  // The bad frames a connection may send before the next closes it 4400 (the scenario's, else protocol.md's 10).
  const badFramesMax = world.options.limits.badFramesMax ?? defaultLimits.badFramesMax;
  // How long the nodes wait for a hello before closing 4408 (the scenario's, else protocol.md's 5 s).
  const helloTimeoutMs = world.options.limits.helloTimeoutMs ?? defaultLimits.helloTimeoutMs;
  // The plan gave each partner a new list with its adversary's conversation: the honest clients already
  // in the world (one per device, in the population's order) take their user's list again.
  if (plans.some((plan) => plan.conv !== null))
    for (const [index, device] of population.devices.entries())
      world.clients[index]!.convs = population.convsOfUser[device.userIndex]!;
  for (const [n, plan] of plans.entries()) {
    const { user, conv } = plan;
    if (conv !== null) {
      world.storage.createAtSetup({ id: conv.id, kind: 'direct', members: conv.members });
      record({ k: 'conv', at: 0, conv: conv.id, kind: 'direct', members: conv.members });
    }
    const prng = streams.stream('adversary', n);
    const client = new VirtualClient({
      user,
      device: plan.device,
      rng: () => prng.float(),
      // A valid token for its sessions; forged ones come from badToken, one attempt at a time.
      token: (now: number) => world.tokens.mint(user, now + tokenLifeMs),
      badToken: (now: number) => world.tokens.forge(user, now + tokenLifeMs),
      record,
      attemptId,
      config: {
        adversary: plan.behaviours,
        foreignConvs: plan.foreignConvs,
        watchPastBoundUsers,
        badFramesMax,
        helloTimeoutMs,
      },
    });
    world.addClient(new SimClient(client, n, conv === null ? [] : [conv.id], true, false));
  }
}
