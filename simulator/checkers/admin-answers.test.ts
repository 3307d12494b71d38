import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { type AdminAnswersOptions, createAdminAnswersChecker } from './admin-answers.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { history } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[], options: AdminAnswersOptions = {}) =>
  checkHistory([createAdminAnswersChecker(options)], events, finalStateFixture())[0]!;

const setup: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob', 'cat']),
  history.conv(0, 'd', ['ann', 'bob'], 'direct'),
];
const createSent = (
  at: number,
  id: number,
  conv: string,
  kind: 'direct' | 'group',
  members: string[],
): HistoryEvent => ({ k: 'create-sent', at, id, conv, kind, members });
const createAnswered = (at: number, id: number, status: number): HistoryEvent => ({
  k: 'create-answered',
  at,
  id,
  status,
});
const fault = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
  k: 'fault',
  at,
  type: 'node-crash',
  phase,
  nodes: ['n1'],
});
const problems = (result: { witness: unknown[] }): string[] =>
  (result.witness as WitnessCase[]).map((w) => w.problem);

/** Every request protocol.md fixes an answer for, answered as it says (a correct server). */
const correct: HistoryEvent[] = [
  ...setup,
  history.membersSent(10, 1, 'g', { remove: ['cat'] }),
  history.membersAnswered(11, 1, 200),
  history.membersSent(12, 2, 'g', { add: ['ann'] }),
  history.membersAnswered(13, 2, 200),
  history.membersSent(14, 3, 'nosuch', { add: ['ann'] }),
  history.membersAnswered(15, 3, 404),
  history.membersSent(16, 4, 'd', { remove: ['bob'] }),
  history.membersAnswered(17, 4, 409),
  history.membersSent(18, 5, 'g', { add: ['not an id!'] }),
  history.membersAnswered(19, 5, 400),
  createSent(20, 6, 'h', 'group', ['ann', 'cat']),
  createAnswered(21, 6, 201),
  history.conv(21, 'h', ['ann', 'cat']),
  createSent(22, 7, 'g', 'direct', ['ann', 'bob']),
  createAnswered(23, 7, 409),
  createSent(24, 8, 'not an id!', 'group', ['ann']),
  createAnswered(25, 8, 400),
  createSent(26, 9, 'h', 'group', ['cat', 'ann']),
  createAnswered(27, 9, 200),
];

describe('admin-answers', () => {
  it('passes a server that answers every request as protocol.md says', () => {
    const result = judge(correct);
    expect(result).toMatchObject({ property: 'admin-answers', verdict: 'pass', witness: [] });
    expect(result.details).toMatch(/9 admin requests: 9 answers judged/);
  });

  it('fails every valid change answered 404 (mutant 1562: the admin routes unreachable)', () => {
    const result = judge([
      ...setup,
      history.membersSent(10, 1, 'g', { remove: ['cat'] }),
      history.membersAnswered(11, 1, 404),
    ]);
    expect(result.verdict).toBe('fail');
    expect(problems(result)).toEqual([
      'a valid admin request refused: change of g sent at 10 ms, answered 404 at 11 ms (a valid change to a group: protocol.md says 2xx)',
    ]);
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([
      expect.objectContaining({ k: 'members-sent', id: 1, conv: 'g' }),
      { k: 'members-answered', at: 11, status: 404 },
    ]);
  });

  it("owes 403 to a change asked with a user's token, and fails one taken (seed-4 mutant 1631)", () => {
    const byUser = (status: number) =>
      judge([
        ...setup,
        { ...history.membersSent(10, 1, 'g', { add: ['dan'] }), by: 'ann' } as HistoryEvent,
        history.membersAnswered(11, 1, status),
      ]);
    expect(byUser(403).verdict).toBe('pass');
    const taken = byUser(200);
    expect(taken.verdict).toBe('fail');
    expect(problems(taken)[0]).toMatch(
      /a change asked with a user's token, not an admin's: protocol.md says 403/,
    );
  });

  it('fails a change to a direct conversation that was taken (mutant 3342)', () => {
    const result = judge([
      ...setup,
      history.membersSent(10, 1, 'd', { remove: ['bob'] }),
      history.membersAnswered(11, 1, 200),
    ]);
    expect(result.verdict).toBe('fail');
    expect(problems(result)[0]).toMatch(
      /an admin request protocol.md refuses was taken: change of d .* says 409/,
    );
  });

  it('fails refusals with the wrong status, and creates refused or taken wrongly', () => {
    const result = judge([
      ...setup,
      history.membersSent(10, 1, 'nosuch', { add: ['ann'] }),
      history.membersAnswered(11, 1, 400),
      createSent(12, 2, 'h', 'group', ['ann', 'bob']),
      createAnswered(13, 2, 400),
      createSent(14, 3, 'hd', 'direct', ['ann', 'bob']),
      createAnswered(15, 3, 400),
      createSent(16, 4, 'g', 'direct', ['ann', 'bob']),
      createAnswered(17, 4, 200),
    ]);
    expect(result.verdict).toBe('fail');
    expect(problems(result)).toEqual([
      expect.stringMatching(/answered with the wrong status: change of nosuch .*says 404/),
      expect.stringMatching(/valid admin request refused: create of h .*says 201/),
      expect.stringMatching(/valid admin request refused: create of hd .*says 201/),
      expect.stringMatching(/protocol.md refuses was taken: create of g .*taken by another kind.*409/),
    ]);
  });

  it('fails a 5xx or no answer while no fault was open, and excuses them under a fault', () => {
    const quiet = judge([
      ...setup,
      history.membersSent(10, 1, 'g', { remove: ['cat'] }),
      history.membersAnswered(11, 1, 503),
      history.membersSent(12, 2, 'g', { remove: ['cat'] }),
      history.membersAnswered(10_012, 2, 0),
    ]);
    expect(quiet.verdict).toBe('fail');
    expect(problems(quiet)).toEqual([
      expect.stringMatching(/answered 5xx while no fault was open: change of g sent at 10 ms, answered 503/),
      expect.stringMatching(
        /got no answer while no fault that cuts a client from a node was open: change of g sent at 12 ms, answered nothing/,
      ),
    ]);
    const faulty = judge([
      ...setup,
      fault(5, 'start'),
      history.membersSent(10, 1, 'g', { remove: ['cat'] }),
      history.membersAnswered(11, 1, 503),
      fault(20, 'heal'),
      // Sent before the heal: the fault may have cost it its answer.
      history.membersSent(15, 2, 'g', { remove: ['cat'] }),
      history.membersAnswered(10_015, 2, 0),
      history.membersSent(30, 3, 'g', { remove: ['cat'] }),
      history.membersAnswered(31, 3, 200),
    ]);
    expect(faulty).toMatchObject({ verdict: 'pass' });
    expect(faulty.details).toMatch(/1 answers judged, 2 5xx or unanswered under a fault/);
    // A store outage leaves the node up and reachable: it explains a 503, not silence (fault-quiet.ts).
    const outage = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'store-outage',
      phase,
    });
    const storeDown = judge([
      ...setup,
      outage(5, 'start'),
      history.membersSent(10, 1, 'g', { remove: ['cat'] }),
      history.membersAnswered(11, 1, 503),
      history.membersSent(15, 2, 'g', { remove: ['cat'] }),
      history.membersAnswered(10_015, 2, 0),
      outage(20, 'heal'),
    ]);
    expect(storeDown.verdict).toBe('fail');
    expect(problems(storeDown)).toEqual([
      expect.stringMatching(
        /got no answer while no fault that cuts a client from a node was open: change of g sent at 15 ms, answered nothing/,
      ),
    ]);
    // Without judgeSilence (live, a cost model) no answer is no verdict; a 5xx still is.
    const slow = judge(
      [...setup, history.membersSent(12, 2, 'g', { remove: ['cat'] }), history.membersAnswered(10_012, 2, 0)],
      { judgeSilence: false },
    );
    expect(slow.verdict).toBe('unknown');
  });

  it('owes 401 to a request with no token or a forged one, 400 to a malformed body, and 201 to the id a refused create left', () => {
    const malformed = (event: HistoryEvent, how: string): HistoryEvent =>
      ({ ...event, malformed: how }) as HistoryEvent;
    const requests = (statuses: readonly number[]): HistoryEvent[] => [
      ...setup,
      malformed(createSent(10, 1, 'h1', 'group', ['ann', 'bob']), 'token=none'),
      createAnswered(11, 1, statuses[0]!),
      malformed(createSent(12, 2, 'h2', 'group', ['ann', 'bob']), 'token=forged'),
      createAnswered(13, 2, statuses[1]!),
      malformed(createSent(14, 3, 'h3', 'group', ['ann', 'bob']), 'members=string'),
      createAnswered(15, 3, statuses[2]!),
      malformed(history.membersSent(16, 4, 'g', { add: ['ann'] }), 'token=none'),
      history.membersAnswered(17, 4, statuses[3]!),
      malformed(history.membersSent(18, 5, 'g', {}), 'add=string'),
      history.membersAnswered(19, 5, statuses[4]!),
      // Each refused create made nothing: the id's valid definition is new.
      createSent(20, 6, 'h1', 'group', ['ann', 'bob']),
      createAnswered(21, 6, statuses[5]!),
    ];
    const right = judge(requests([401, 401, 400, 401, 400, 201]));
    expect(right.verdict).toBe('pass');
    expect(right.details).toMatch(/6 admin requests: 6 answers judged/);
    // The unauthenticated answered 403 or 404 (mutants 1564, 1625), the body that threw 500 (1759,
    // never excused by a fault: a dependency down is 503), the valid create after a refused one 200.
    const wrong = judge([fault(5, 'start'), ...requests([403, 404, 500, 403, 500, 201])]);
    expect(wrong.verdict).toBe('fail');
    expect(problems(wrong)).toEqual([
      'an admin request answered with the wrong status: create of h1 sent at 10 ms, answered 403 at 11 ms (a request sent with token=none: protocol.md says 401)',
      'an admin request answered with the wrong status: create of h2 sent at 12 ms, answered 404 at 13 ms (a request sent with token=forged: protocol.md says 401)',
      'an admin request answered 500 (the server failed to answer it): create of h3 sent at 14 ms, answered 500 at 15 ms (a body sent malformed (members=string): protocol.md says 400)',
      'an admin request answered with the wrong status: change of g sent at 16 ms, answered 403 at 17 ms (a request sent with token=none: protocol.md says 401)',
      'an admin request answered 500 (the server failed to answer it): change of g sent at 18 ms, answered 500 at 19 ms (a body sent malformed (add=string): protocol.md says 400)',
    ]);
    // A create made by the refusal: the id's valid definition then answered 200.
    expect(problems(judge(requests([401, 401, 400, 401, 400, 200])))).toEqual([
      'an admin request answered with the wrong status: create of h1 sent at 20 ms, answered 200 at 21 ms (a create of a new id: protocol.md says 201)',
    ]);
    // Taken: the unauthenticated change answered 200.
    const taken = judge(requests([401, 401, 400, 200, 400, 201]));
    expect(problems(taken)).toEqual([
      expect.stringMatching(/^an admin request protocol.md refuses was taken: change of g/),
    ]);
  });

  it('fails a valid change asked again and again and never taken, though each failure came under a fault', () => {
    const events: HistoryEvent[] = [...setup, fault(5, 'start')];
    for (let i = 1; i <= 5; i++)
      events.push(
        history.membersSent(10 * i, i, 'g', { remove: ['cat'] }),
        history.membersAnswered(10 * i + 1, i, 503),
      );
    const result = judge(events, { adminRetriesMax: 5 });
    expect(result.verdict).toBe('fail');
    expect(problems(result)).toEqual([
      'a valid change to g was asked 5 times in a row from 10 ms and never taken (the last one and its answer follow)',
    ]);
    // Taken at last: no violation.
    events.push(history.membersSent(60, 6, 'g', { remove: ['cat'] }), history.membersAnswered(61, 6, 200));
    expect(judge(events, { adminRetriesMax: 5 }).verdict).toBe('pass');
  });

  it('does not judge a create whose earlier answer was lost, and says so', () => {
    const result = judge([
      ...setup,
      createSent(10, 1, 'h', 'group', ['ann', 'bob']),
      fault(11, 'start'),
      createAnswered(10_010, 1, 0),
      fault(10_011, 'heal'),
      // Created or not, the history cannot tell: 201 and 200 are both right.
      createSent(10_020, 2, 'h', 'group', ['ann', 'bob']),
      createAnswered(10_021, 2, 200),
      history.conv(10_021, 'h', ['ann', 'bob']),
    ]);
    expect(result.verdict).toBe('unknown');
    expect(result.details).toMatch(
      /0 answers judged, 1 5xx or unanswered under a fault, 1 whose answer the history cannot tell/,
    );
  });

  it('could not judge a run that made no admin request', () => {
    const result = judge(setup);
    expect(result.verdict).toBe('unknown');
    expect(result.details).toMatch(
      /could not judge: the scenario asks for admin requests and the run made none/,
    );
  });
});
