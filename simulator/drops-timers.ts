// A deliberately broken node for tests: the shipped core that never schedules timers of one kind, so
// the branch of its tick for them never runs (a retry timer emptied, as Stryker's mutants of that
// branch do). The core stays as it ships; only its timer queue is wrapped.

import { ChatNode, type ChatNodeOptions } from '../reference-server/core/chat-node.ts';
import type { TimerKind, TimerQueue } from '../reference-server/core/timer-queue.ts';

export class DropsTimers extends ChatNode {
  constructor(options: ChatNodeOptions, dropped: TimerKind) {
    super(options);
    const timers = (this as unknown as { timers: TimerQueue }).timers;
    const push = timers.push.bind(timers);
    timers.push = (at, kind, key) => {
      if (kind !== dropped) push(at, kind, key);
    };
  }
}
