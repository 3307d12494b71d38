// Admin requests protocol.md refuses before it looks at anything else, sent on purpose during the run
// (`workload.adminProbes` rounds, beside admin-probes.ts's): a create and a change sent with no
// Authorization header or with a token the server cannot verify (401), and creates and changes whose
// body protocol.md refuses (400): `members` not a list, a member that is not an id, `members` left out,
// a kind protocol.md does not have, a body that is not JSON, a direct conversation of one user named
// twice; a change whose `add` is not a list, one that asks nothing. The simulator's admin sent only
// well-formed bodies with a valid token: a server that answered no token 403 (mutant 1625 of the seed-6
// sample) or threw on `members: "u1"` (1759; seed-2's 1694) passed. A refused create creates nothing: the
// admin then posts the id's valid definition, owed 201 (a 200 or 409 says the refused one was taken).
// Every request goes through the ledger with `malformed` saying how it was sent, and admin-answers judges
// the answers from the history alone; a step that throws is answered 500 (the world, as the live HTTP
// API), never excused. A change only re-adds a current member, so membership is the same whatever the
// server did with it: no checker's view of the members waits on these answers.

import { type AdminLedger, type MembersChange, membersChangeBody } from './admin-ledger.ts';
import { type AdminSender, adminPost, isSmallGroup } from './behaviours.ts';
import type { SeedStreams } from './kernel/prng.ts';
import type { Population } from './population.ts';
import type { World } from './world/world.ts';

/** A user id protocol.md's grammar refuses (a space and a `!`). */
const badId = 'not an id!';
/** What the live HTTP API hands the core for a body that does not parse (http-api.ts's readJsonBody). */
const notJson = 'the body is not valid JSON: Unexpected end of JSON input';

/** One refused create: how it is sent, as `create-sent`'s `malformed` (none: a body whose ids say it). */
type CreateRefusal = {
  how?: string;
  kind: 'direct' | 'group';
  body: (id: string, members: readonly string[]) => unknown;
  sender?: AdminSender;
};

const valid = (kind: 'direct' | 'group') => (id: string, members: readonly string[]) => ({
  id,
  kind,
  members,
});

/** The creates, as the conformance suite's http-api cases send them (401 and 400 alike). */
const createRefusals: readonly CreateRefusal[] = [
  { how: 'token=none', kind: 'group', body: valid('group'), sender: { token: 'none' } },
  { how: 'token=forged', kind: 'group', body: valid('group'), sender: { token: 'forged' } },
  { how: 'members=string', kind: 'group', body: (id, [first]) => ({ id, kind: 'group', members: first }) },
  {
    how: 'members=bad-id',
    kind: 'group',
    body: (id, members) => ({ id, kind: 'group', members: [...members, badId] }),
  },
  { how: 'members=missing', kind: 'group', body: (id) => ({ id, kind: 'group' }) },
  { how: 'kind=channel', kind: 'group', body: (id, members) => ({ id, kind: 'channel', members }) },
  { how: 'body=not-json', kind: 'group', body: valid('group'), sender: { bodyError: notJson } },
  // A direct conversation of one user named twice: protocol.md's direct kind is two distinct members
  // (the history's own ids say why it is a 400).
  { kind: 'direct', body: (id, [first]) => ({ id, kind: 'direct', members: [first, first] }) },
];

/**
 * One refused change to a group, given a current member: the lists the history records (those the body
 * holds, none when it holds no list), the body (default: those lists as an admin sends them), `how` and
 * `sender` as `CreateRefusal`'s.
 */
type ChangeRefusal = {
  how?: string;
  change: (member: string) => MembersChange;
  body?: (member: string) => unknown;
  sender?: AdminSender;
};

const readd = (member: string): MembersChange => ({ add: [member], remove: [] });
const nothing = (): MembersChange => ({ add: [], remove: [] });

const changeRefusals: readonly ChangeRefusal[] = [
  { how: 'token=none', change: readd, sender: { token: 'none' } },
  { how: 'token=forged', change: readd, sender: { token: 'forged' } },
  { how: 'add=string', change: nothing, body: (member) => ({ add: member }) },
  { how: 'body=not-json', change: nothing, sender: { bodyError: notJson } },
  // Neither add nor remove (the history's empty lists say why it is a 400).
  { change: nothing },
];

export function scheduleAdminRefusals(
  world: World,
  streams: SeedStreams,
  population: Population,
  ledger: AdminLedger,
  rounds: number,
  fromMs: number,
  untilMs: number,
): void {
  const { users } = population;
  const groups = population.groups.filter(isSmallGroup);
  if (rounds <= 0 || users.length < 3) return;
  const rng = streams.stream('admin-refusals');
  const post = (
    conv: string,
    kind: 'direct' | 'group',
    members: string[],
    body: unknown,
    then: (status: number) => void,
    how?: string,
    sender?: AdminSender,
  ): void =>
    ledger.create(
      { conv, kind, members },
      (_, answer) =>
        adminPost(
          world,
          '/v1/admin/conversations',
          body,
          (status, reply) => {
            answer(status, reply);
            then(status);
          },
          sender,
        ),
      () => world.now,
      undefined,
      how,
    );
  const create = (refusal: CreateRefusal, conv: string): void => {
    const picked = new Set<string>();
    while (picked.size < 3) picked.add(users[rng.int(users.length)]!);
    const members = [...picked];
    const meant = refusal.kind === 'direct' ? [members[0]!, members[0]!] : members;
    post(
      conv,
      refusal.kind,
      meant,
      refusal.body(conv, members),
      (status) => {
        // Refused: nothing was created, so the id's valid definition is new (201).
        if (status >= 400 && status < 500)
          post(conv, 'group', members, valid('group')(conv, members), () => {});
      },
      refusal.how,
      refusal.sender,
    );
  };
  const change = (refusal: ChangeRefusal): void => {
    const idle = groups.filter((conv) => ledger.membersOf(conv).length > 0 && !ledger.busy(conv));
    if (idle.length === 0) return;
    const conv = idle[rng.int(idle.length)]!;
    const members = ledger.membersOf(conv);
    const member = members[rng.int(members.length)]!;
    const body = refusal.body?.(member) ?? membersChangeBody(refusal.change(member));
    ledger.change(
      conv,
      refusal.change(member),
      (c, _, answer) =>
        adminPost(world, `/v1/admin/conversations/${c}/members`, body, answer, refusal.sender),
      () => world.now,
      undefined,
      refusal.how,
    );
  };
  for (let round = 0; round < rounds; round++) {
    createRefusals.forEach((refusal, i) => {
      const at = fromMs + (untilMs - fromMs) * rng.float();
      world.at(at, () => create(refusal, `${population.prefix}hr${round}-${i}`));
    });
    for (const refusal of changeRefusals) {
      const at = fromMs + (untilMs - fromMs) * rng.float();
      world.at(at, () => change(refusal));
    }
  }
}
