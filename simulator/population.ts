// Who takes part in a run: users and their devices, conversations (direct pairs, groups, large
// groups) and adversaries, laid out deterministically from the scenario and the client count.
// Conversations go to `create`: the simulator writes them straight into its store before the nodes
// boot; the live driver provisions them through the admin HTTP API.

import type { CreateRequest } from '../reference-server/store/message-store.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { HistoryEvent } from './history.ts';

/** protocol.md's default large-group threshold. */
const protocolLargeGroupThreshold = 256;

export type Device = { user: string; device: string; userIndex: number };

export type Population = {
  users: string[];
  devices: Device[];
  /**
   * user index -> conversations the user is in at setup. Frozen and shared by every user with the same
   * list (a group's members hold one array): replace a user's list, never write into it.
   */
  convsOfUser: (readonly string[])[];
  groups: string[];
  adversaries: number;
  /** Put before every user and conversation id (live runs against a shared server: one per run). */
  prefix: string;
};

export function buildPopulation(
  scenario: Scenario,
  clientCount: number,
  createConversation: (request: CreateRequest) => void,
  record: (event: HistoryEvent) => void,
  prefix = '',
): Population {
  const perUser = scenario.clients.devicesPerUser;
  const userCount = Math.max(2, Math.ceil(clientCount / perUser));
  const users = Array.from({ length: userCount }, (_, i) => `${prefix}u${i}`);
  const devices: Device[] = [];
  for (let i = 0; devices.length < clientCount; i++) {
    const userIndex = i % userCount;
    const k = Math.floor(i / userCount);
    devices.push({ user: users[userIndex]!, device: `${prefix}u${userIndex}-d${k}`, userIndex });
  }
  const convsOfUser: string[][] = users.map(() => []);
  const groups: string[] = [];
  const create = (id: string, kind: 'direct' | 'group', members: number[]): void => {
    const names = members.map((m) => users[m]!);
    createConversation({ id, kind, members: names });
    for (const m of members) convsOfUser[m]!.push(id);
    record({ k: 'conv', at: 0, conv: id, kind, members: names });
  };
  const { directPerUser, groupSize, groupFraction, largeGroups, largeGroupSize } = scenario.conversations;
  for (let i = 0; i < userCount; i++)
    for (let k = 1; k <= directPerUser; k++) {
      const j = (i + k) % userCount;
      if (j !== i && !(userCount === 2 && i > j)) create(`${prefix}d${i}-${j}`, 'direct', [i, j]);
    }
  if (groupSize >= 2) {
    const grouped = Math.floor(userCount * groupFraction);
    for (let start = 0; start + groupSize <= grouped; start += groupSize) {
      const id = `${prefix}g${start / groupSize}`;
      create(
        id,
        'group',
        Array.from({ length: groupSize }, (_, k) => start + k),
      );
      groups.push(id);
    }
  }
  const stride = Math.max(1, Math.floor(userCount / Math.max(1, largeGroupSize)));
  for (let g = 0; g < largeGroups; g++) {
    // k * stride < userCount for k < size, so the members are distinct.
    const members = new Set<number>();
    for (let k = 0; k < Math.min(largeGroupSize, userCount); k++) members.add((g + k * stride) % userCount);
    const id = `${prefix}L${g}`;
    create(
      id,
      'group',
      [...members].sort((a, b) => a - b),
    );
    groups.push(id);
  }
  // At the threshold: not large (a group is large with more members than it), so pushed.
  const thresholdSize = Math.min(
    scenario.limits.largeGroupThreshold ?? protocolLargeGroupThreshold,
    userCount,
  );
  const thresholdStride = Math.max(1, Math.floor(userCount / Math.max(1, thresholdSize)));
  for (let g = 0; g < scenario.conversations.thresholdGroups; g++) {
    const members = new Set<number>();
    for (let k = 0; k < thresholdSize; k++) members.add((g + 1 + k * thresholdStride) % userCount);
    const id = `${prefix}T${g}`;
    create(
      id,
      'group',
      [...members].sort((a, b) => a - b),
    );
    groups.push(id);
  }
  return {
    users,
    devices,
    convsOfUser: shareLists(convsOfUser),
    groups,
    adversaries: scenario.clients.adversaries,
    prefix,
  };
}

/**
 * One frozen array for every equal list, each exactly as long as it is: grown from empty by push, a list
 * reserved room for 17 (152 bytes a user), and a group's ten members held ten arrays of one where one
 * does (55 bytes a user, docs/benchmarks.md).
 */
export function shareLists(lists: readonly (readonly string[])[]): (readonly string[])[] {
  const shared = new Map<string, readonly string[]>();
  return lists.map((list) => {
    const key = JSON.stringify(list);
    let one = shared.get(key);
    if (one === undefined) {
      one = Object.freeze(list.slice());
      shared.set(key, one);
    }
    return one;
  });
}
