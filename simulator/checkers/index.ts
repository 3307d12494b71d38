// The checkers a run registers, one per guarantee of protocol.md, sharing one IdTable so a run's
// strings are interned once. The simulator feeds each every event, then calls finish(final).

import type { Checker } from '../history.ts';
import { type AdminAnswersOptions, createAdminAnswersChecker } from './admin-answers.ts';
import { createAgreementChecker } from './agreement.ts';
import { type AuthorizationOptions, createAuthorizationChecker } from './authorization.ts';
import { resolveCheckerOptions } from './checker-options.ts';
import { createCursorMonotonicityChecker } from './cursor-monotonicity.ts';
import { createDeliveryModeChecker, type DeliveryModeOptions } from './delivery-mode.ts';
import { createDrainStopChecker } from './drain-stop.ts';
import { createDurableAckChecker } from './durable-ack.ts';
import { createGapFreeStoreChecker } from './gap-free-store.ts';
import { createIdempotencyChecker } from './idempotency.ts';
import { createLivenessChecker } from './liveness.ts';
import { createNoDuplicatesChecker } from './no-duplicates.ts';
import { createNoLossChecker } from './no-loss.ts';
import { createNoSpuriousUnavailableChecker } from './no-spurious-unavailable.ts';
import { createPerConversationOrderChecker } from './per-conversation-order.ts';
import { createPresenceChangesChecker, type PresenceChangesOptions } from './presence-changes.ts';
import { createPresenceConvergenceChecker } from './presence-convergence.ts';
import { createRateLimitChecker, type RateLimitOptions } from './rate-limit.ts';
import { createReadPagesChecker, type ReadPagesOptions } from './read-pages.ts';
import { createServerFramesChecker, type ServerFramesOptions } from './server-frames.ts';
import { createTypingRecipientsChecker, type TypingRecipientsOptions } from './typing-recipients.ts';

export { createAdminAnswersChecker } from './admin-answers.ts';
export { createAgreementChecker } from './agreement.ts';
export { createAuthorizationChecker } from './authorization.ts';
export { checkHistory } from './check-history.ts';
export type { CheckerOptions } from './checker-options.ts';
export { createCursorMonotonicityChecker } from './cursor-monotonicity.ts';
export { createDrainStopChecker } from './drain-stop.ts';
export { createDurableAckChecker } from './durable-ack.ts';
export { createGapFreeStoreChecker } from './gap-free-store.ts';
export { createIdempotencyChecker } from './idempotency.ts';
export { createLivenessChecker } from './liveness.ts';
export { createNoDuplicatesChecker } from './no-duplicates.ts';
export { createNoLossChecker } from './no-loss.ts';
export { createNoSpuriousUnavailableChecker } from './no-spurious-unavailable.ts';
export { createPerConversationOrderChecker } from './per-conversation-order.ts';
export { createPresenceChangesChecker } from './presence-changes.ts';
export { createPresenceConvergenceChecker } from './presence-convergence.ts';
export { createRateLimitChecker } from './rate-limit.ts';
export { createReadPagesChecker } from './read-pages.ts';
export { createServerFramesChecker } from './server-frames.ts';
export { createTypingRecipientsChecker } from './typing-recipients.ts';

/** Options of every standard checker: a shared IdTable, bounds, authorization's `graceMs`, the send limits. */
export type StandardCheckerOptions = AuthorizationOptions &
  RateLimitOptions &
  PresenceChangesOptions &
  DeliveryModeOptions &
  TypingRecipientsOptions &
  ReadPagesOptions &
  ServerFramesOptions &
  AdminAnswersOptions & {
    /**
     * The run makes admin requests during it (membership changes, creates): admin-answers judges them,
     * and a run that made none where it should have is "could not judge".
     */
    adminRequests?: boolean;
    /** Properties not to judge (the scenario's `checks.skip`): their checkers are left out. */
    skip?: readonly string[];
    /**
     * Judge `unavailable` answers against the faults (default true): live, a real store may fail under
     * load with nothing injected, so the live driver leaves no-spurious-unavailable out.
     */
    judgeUnavailable?: boolean;
    /**
     * The run declares a rolling restart and records its nodes' stops (`node-stop`: the simulator):
     * drain-stop judges that a drained node stops once its sessions are gone.
     */
    drainStops?: boolean;
  };

export function standardCheckers(options: StandardCheckerOptions = {}): Checker[] {
  const shared = { ...options, ...resolveCheckerOptions(options) };
  const skip = new Set(options.skip ?? []);
  const checkers: Checker[] = [
    createPerConversationOrderChecker(shared),
    createAgreementChecker(shared),
    createNoDuplicatesChecker(shared),
    createNoLossChecker(shared),
    createDurableAckChecker(shared),
    createIdempotencyChecker(shared),
    createGapFreeStoreChecker(shared),
    createAuthorizationChecker(shared),
    createReadPagesChecker(shared),
    createCursorMonotonicityChecker(shared),
    createPresenceConvergenceChecker(shared),
    createPresenceChangesChecker(shared),
    createRateLimitChecker(shared),
    createTypingRecipientsChecker(shared),
    createServerFramesChecker(shared),
    ...(options.judgeUnavailable === false ? [] : [createNoSpuriousUnavailableChecker(shared)]),
    ...(options.largeGroupThreshold === undefined ? [] : [createDeliveryModeChecker(shared)]),
    ...(options.adminRequests ? [createAdminAnswersChecker(shared)] : []),
    ...(options.drainStops ? [createDrainStopChecker(shared)] : []),
    createLivenessChecker(),
  ];
  return checkers.filter((checker) => !skip.has(checker.property));
}
