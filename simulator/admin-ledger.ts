// The harness's own record of the membership changes it asks for, as an admin would make them: each
// request is reported when sent (`members-sent`) and when answered (`members-answered`, with the
// lastSeq the server claims), and what the harness believes membership to be follows only the
// answers it got. The workload asks it who is a member (a removed user stops writing), so neither the
// workload nor the checkers read the server's state. One request per conversation is in flight at a
// time, so the changes of a conversation take effect in the order they were sent.

import type { HistoryEvent } from './history.ts';

export type MembersChange = { add: string[]; remove: string[] };

/**
 * A change as its HTTP body: protocol.md makes `add` and `remove` both optional, so an empty one is left
 * out, as an admin tool would (a server that needs both refused every add-only change: mutant 1662 of
 * the 3c0f288 sample). The history still records both lists.
 */
export function membersChangeBody(change: MembersChange): { add?: string[]; remove?: string[] } {
  return {
    ...(change.add.length > 0 ? { add: change.add } : {}),
    ...(change.remove.length > 0 ? { remove: change.remove } : {}),
  };
}

/** A conversation the harness asks to create over HTTP during the run. */
export type CreateRequest = { conv: string; kind: 'direct' | 'group'; members: string[] };

/** Carries one create; calls back with the HTTP status (0: no answer) and the parsed body. */
export type CreateTransport = (
  request: CreateRequest,
  answer: (status: number, body: unknown) => void,
) => void;

/** Carries one admin request; calls back with the HTTP status (0: no answer) and the parsed body. */
export type AdminTransport = (
  conv: string,
  change: MembersChange,
  answer: (status: number, body: unknown) => void,
) => void;

/**
 * A conversation's current members: as created, a frozen list when short (a Set of ten was about 420
 * bytes, 4.2 MiB at 100,000 users in groups of ten), else a Set; a Set from its first answered change.
 */
type Members = readonly string[] | Set<string>;

/** Conversations created with at most this many members keep them as a list searched in order. */
const listedMax = 16;

function hasMember(members: Members | undefined, user: string): boolean {
  if (members === undefined) return false;
  return members instanceof Set ? members.has(user) : members.includes(user);
}

export class AdminLedger {
  private readonly members = new Map<string, Members>();
  /**
   * Everyone the harness ever saw made a member of each conversation (creation and answered adds), in
   * the order they first joined; made at a conversation's first answered change: until then it is
   * `members` (a second set of every member of every group was 4.2 MiB at 100,000 users).
   */
  private readonly ever = new Map<string, Set<string>>();
  private readonly inFlight = new Set<string>();
  private nextId = 1;

  constructor(private readonly record: (event: HistoryEvent) => void) {}

  /** A conversation the harness created with these members (its `conv` event is recorded by the caller). */
  created(conv: string, members: readonly string[]): void {
    const unique = new Set(members);
    this.members.set(conv, unique.size <= listedMax ? Object.freeze([...unique]) : unique);
  }

  /** The current members, as the harness believes them, in the order they joined. */
  membersOf(conv: string): string[] {
    return [...(this.members.get(conv) ?? [])];
  }

  /** Users who were members and were removed since (a re-add gives them a second span). */
  formerMembersOf(conv: string): string[] {
    const now = this.members.get(conv);
    return [...(this.ever.get(conv) ?? now ?? [])].filter((user) => !hasMember(now, user));
  }

  /** Whether the harness believes the user is a member now (after every answered change). */
  isMember(conv: string, user: string): boolean {
    return hasMember(this.members.get(conv), user);
  }

  /**
   * Asks for a conversation over `transport` at `now()` (`create-sent`, `create-answered`); a 2xx makes
   * it one the harness created (its `conv` event, unless it already was), then `done` runs.
   */
  create(
    request: CreateRequest,
    transport: CreateTransport,
    now: () => number,
    done?: () => void,
    /** How it is sent malformed on purpose (`create-sent`'s `malformed`). */
    malformed?: string,
  ): void {
    const id = this.nextId++;
    const { conv, kind, members } = request;
    this.record({
      k: 'create-sent',
      at: now(),
      id,
      conv,
      kind,
      members,
      ...(malformed === undefined ? {} : { malformed }),
    });
    transport(request, (status) => {
      this.record({ k: 'create-answered', at: now(), id, status });
      if (status < 200 || status >= 300) return;
      if (!this.members.has(conv)) this.record({ k: 'conv', at: now(), conv, kind, members });
      // The runner's `conv` handler calls created(); a ledger recording elsewhere learns it here.
      if (!this.members.has(conv)) this.created(conv, members);
      done?.();
    });
  }

  busy(conv: string): boolean {
    return this.inFlight.has(conv);
  }

  /** Sends a change through `transport` at `now()`; false (nothing sent) while another is in flight. */
  change(
    conv: string,
    change: MembersChange,
    transport: AdminTransport,
    now: () => number,
    /** The user whose token asks instead of an admin's (the change is owed 403). */
    by?: string,
    /** How it is sent malformed on purpose (`members-sent`'s `malformed`). */
    malformed?: string,
  ): boolean {
    if (this.inFlight.has(conv)) return false;
    this.inFlight.add(conv);
    const id = this.nextId++;
    this.record({
      k: 'members-sent',
      at: now(),
      id,
      conv,
      add: change.add,
      remove: change.remove,
      ...(by === undefined ? {} : { by }),
      ...(malformed === undefined ? {} : { malformed }),
    });
    transport(conv, change, (status, body) => {
      this.inFlight.delete(conv);
      const lastSeq = (body as { lastSeq?: unknown } | null)?.lastSeq;
      this.record({
        k: 'members-answered',
        at: now(),
        id,
        status,
        ...(typeof lastSeq === 'number' ? { lastSeq } : {}),
      });
      if (status < 200 || status >= 300) return;
      const ever = this.ever.get(conv) ?? new Set(this.members.get(conv));
      for (const user of change.add) ever.add(user);
      this.ever.set(conv, ever);
      const current = this.members.get(conv);
      const set = current instanceof Set ? current : new Set(current);
      for (const user of change.remove) set.delete(user);
      for (const user of change.add) set.add(user);
      this.members.set(conv, set);
    });
    return true;
  }
}
