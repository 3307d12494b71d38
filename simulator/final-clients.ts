// Who took part to the end of a run, and who is online then, as they cross to the checker thread: by
// the number each client's history went over with (history-batch.ts already told the thread every such
// number's user and device), by name only where it did not (a client that recorded nothing). At a
// million clients the final state listed a million {user, device} objects and a set of a million users
// on the world's side, and the thread got its own copy of every name; now a number each.

import type { DeviceRef } from './history.ts';

/** The world's side: client numbers, and every client's names (user at 2n, device at 2n + 1). */
export type FinalClients = {
  /** Every device that took part to the end (not the leavers, not adversaries), in client order. */
  devices: Int32Array;
  /** Every client with a live connection at the end. */
  online: Int32Array;
  names: readonly string[];
};

/** As it crosses: per entry a client number, or -1 where its names follow in order in the list beside. */
export type ClientsCrossing = {
  devices: Int32Array;
  /** User and device, side by side, of each device entry that is -1. */
  deviceNames: string[];
  online: Int32Array;
  /** The user of each online entry that is -1. */
  onlineUsers: string[];
};

/** What the history's crossing told the thread: whether number n names this user (and device). */
export type ToldNames = (device: number, user: string, deviceName?: string) => boolean;

/** What the thread was told: each number's names (history-batch.ts's reader). */
export type NamesByNumber = { userOf(device: number): string; deviceNameOf(device: number): string };

export function encodeClients(clients: FinalClients, told: ToldNames): ClientsCrossing {
  const { names } = clients;
  const deviceNames: string[] = [];
  const devices = clients.devices.map((n) => {
    if (told(n, names[2 * n]!, names[2 * n + 1]!)) return n;
    deviceNames.push(names[2 * n]!, names[2 * n + 1]!);
    return -1;
  });
  const onlineUsers: string[] = [];
  const online = clients.online.map((n) => {
    if (told(n, names[2 * n]!)) return n;
    onlineUsers.push(names[2 * n]!);
    return -1;
  });
  return { devices, deviceNames, online, onlineUsers };
}

export function decodeClients(
  crossing: ClientsCrossing,
  names: NamesByNumber,
): { devices: DeviceRef[]; online: Set<string> } {
  const devices: DeviceRef[] = [];
  let named = 0;
  for (const n of crossing.devices)
    if (n >= 0) devices.push({ user: names.userOf(n), device: names.deviceNameOf(n) });
    else {
      devices.push({ user: crossing.deviceNames[named]!, device: crossing.deviceNames[named + 1]! });
      named += 2;
    }
  const online = new Set<string>();
  named = 0;
  for (const n of crossing.online) online.add(n >= 0 ? names.userOf(n) : crossing.onlineUsers[named++]!);
  return { devices, online };
}
