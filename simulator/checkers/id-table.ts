// Dense numeric ids for the strings of a run (conversations, users, devices), so checker state is
// indexed by numbers in typed arrays. One table may be shared by every checker of a run (see
// standardCheckers), paying for each string once. Invariant: an id never changes and names its string.

export class IdTable {
  private readonly convIds = new Map<string, number>();
  private readonly convNames: string[] = [];
  private readonly userIds = new Map<string, number>();
  private readonly userNames: string[] = [];
  /**
   * user -> its device's id (the usual one device) or device -> id: no key string built per event, and
   * no Map per user when a user has one device (a million of them at a million clients).
   */
  private readonly deviceIds = new Map<string, number | Map<string, number>>();
  /**
   * Each device's name and its user's id; `deviceName` builds the pair when asked (witnesses, the
   * finish), where an object per device was ~40 MiB kept at a million clients.
   */
  private readonly deviceNames: string[] = [];
  private readonly deviceUsers: number[] = [];
  /**
   * A carrier's own device numbers (see prime) -> ids, so the first lookup of an event is an array read;
   * with the user and device strings each number was given, to check a hint without reading the
   * device's name record (the same string objects come back every time, so comparing is cheap).
   */
  private readonly hinted: number[] = [];
  private readonly hintedUser: string[] = [];
  private readonly hintedDevice: string[] = [];
  /**
   * One-entry memos: every checker of a run looks up the same event's strings in turn, so the last
   * answer is usually the next one (and comparing the same string objects is cheap).
   */
  private lastConvKey = '';
  private lastConvId = -1;
  private lastUserKey = '';
  private lastDeviceKey = '';
  private lastDeviceId = -1;
  /** The last user looked up by name alone (a message's sender, a cursor's owner). */
  private lastUserName = '';
  private lastUserId = -1;

  conv(conv: string): number {
    if (conv === this.lastConvKey) return this.lastConvId;
    const id = intern(this.convIds, this.convNames, conv, conv);
    this.lastConvKey = conv;
    this.lastConvId = id;
    return id;
  }

  user(user: string): number {
    // The event's own device's user is the likeliest (lastUserKey is always lastDeviceId's user), then
    // the user asked for last.
    if (user === this.lastUserKey && this.lastDeviceId >= 0) return this.deviceUsers[this.lastDeviceId]!;
    if (user === this.lastUserName) return this.lastUserId;
    const id = intern(this.userIds, this.userNames, user, user);
    this.lastUserName = user;
    this.lastUserId = id;
    return id;
  }

  device(user: string, device: string): number {
    if (device === this.lastDeviceKey && user === this.lastUserKey) return this.lastDeviceId;
    const id = this.deviceSlow(user, device);
    this.lastUserKey = user;
    this.lastDeviceKey = device;
    this.lastDeviceId = id;
    return id;
  }

  /**
   * Tells the table which device the next lookups are about, by a number the carrier gives each of
   * its devices (the simulator's client index): an array read instead of two hash lookups.
   */
  prime(user: string, device: string, hint: number): void {
    // Grown by pushes, never by writing past the end: hints come in any order, and an array written far
    // past its end turns into a slow dictionary.
    while (this.hinted.length <= hint) {
      this.hinted.push(-1);
      this.hintedUser.push('');
      this.hintedDevice.push('');
    }
    let id = this.hinted[hint]!;
    if (id < 0 || this.hintedDevice[hint] !== device || this.hintedUser[hint] !== user) {
      id = this.deviceSlow(user, device);
      this.hinted[hint] = id;
      this.hintedUser[hint] = user;
      this.hintedDevice[hint] = device;
    }
    this.lastUserKey = user;
    this.lastDeviceKey = device;
    this.lastDeviceId = id;
  }

  private deviceSlow(user: string, device: string): number {
    const known = this.findDevice(user, device);
    if (known !== undefined) return known;
    const id = this.deviceNames.length;
    const devices = this.deviceIds.get(user);
    if (devices === undefined) this.deviceIds.set(user, id);
    else if (typeof devices === 'number')
      this.deviceIds.set(
        user,
        new Map([
          [this.deviceNames[devices]!, devices],
          [device, id],
        ]),
      );
    else devices.set(device, id);
    this.deviceNames.push(device);
    this.deviceUsers.push(this.user(user));
    return id;
  }

  /** The conv's id if it was ever seen, without adding it. */
  findConv(conv: string): number | undefined {
    return this.convIds.get(conv);
  }

  /** The ids of every device of `user` seen so far (none if the user was never seen). */
  devicesOfUser(user: string): Iterable<number> {
    const devices = this.deviceIds.get(user);
    if (devices === undefined) return [];
    return typeof devices === 'number' ? [devices] : devices.values();
  }

  findUser(user: string): number | undefined {
    return this.userIds.get(user);
  }

  findDevice(user: string, device: string): number | undefined {
    const devices = this.deviceIds.get(user);
    if (typeof devices === 'number') return this.deviceNames[devices] === device ? devices : undefined;
    return devices?.get(device);
  }

  convName(id: number): string {
    return this.convNames[id]!;
  }

  userName(id: number): string {
    return this.userNames[id]!;
  }

  deviceName(id: number): { user: string; device: string } {
    return { user: this.userNames[this.deviceUsers[id]!]!, device: this.deviceNames[id]! };
  }

  /** The user id of a device's user. */
  deviceUser(id: number): number {
    return this.deviceUsers[id]!;
  }

  get deviceCount(): number {
    return this.deviceNames.length;
  }

  get userCount(): number {
    return this.userNames.length;
  }
}

function intern(ids: Map<string, number>, names: string[], key: string, name: string): number {
  const known = ids.get(key);
  if (known !== undefined) return known;
  const id = names.length;
  ids.set(key, id);
  names.push(name);
  return id;
}
