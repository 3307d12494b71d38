// A rolling restart, as an operator deploys a new version to a fleet: node by node in index order,
// each is drained as protocol.md's `drain` says (every client told to reconnect elsewhere, then closed
// with 1012), stopped cleanly once no connection and no store operation is left (or when its drain
// runs out of time, as the server does), kept down restartDelayMs, and started again on the same
// store; the next node is taken only once this one serves again. Each node's turn is a
// `drain-restart` fault window of its own in the history (from its drain to serving again). At the
// heal a node still stopped starts at once and nodes not reached yet are left alone. A node found
// down (another fault's doing) is skipped.

import { defaultLimits } from '../../reference-server/core/limits.ts';
import type { Fault } from './fault.ts';

/** What the server waits beyond its drain timeout for the last close handshakes (runtime's closeTimeoutMs). */
export const closeGraceMs = 3000;
export const restartDelayMsDefault = 500;
/** The `fault` history events of one node's turn: from its drain until it serves again. */
export const drainRestart = 'drain-restart';

export const rollingRestart: Fault = {
  type: 'rolling-restart',
  start({ world, spec, note, stopped: recordStop }) {
    const limits = { ...defaultLimits, ...world.options.limits };
    const restartDelayMs = spec.restartDelayMs ?? restartDelayMsDefault;
    let healed = false;
    /** Starts the node now stopped, if one is waiting for its restart. */
    let startWaiting: (() => void) | null = null;

    const roll = (index: number): void => {
      const node = world.nodes[index];
      if (healed || node === undefined) return;
      if (!node.up) {
        roll(index + 1);
        return;
      }
      const epoch = node.epoch;
      const nodes = [`n${index + 1}`];
      note?.(drainRestart, 'start', nodes);
      let stopped = false;
      /** `killed`: the drain ran out of time and the process is killed, not ending by itself. */
      const stop = (killed: boolean): void => {
        if (stopped) return;
        stopped = true;
        // The node died meanwhile (another fault): whoever took it down brings it back.
        if (node.epoch !== epoch || !node.up) {
          note?.(drainRestart, 'heal', nodes);
          roll(index + 1);
          return;
        }
        node.stop();
        recordStop?.(nodes[0]!, killed);
        let started = false;
        const start = (): void => {
          if (started) return;
          started = true;
          startWaiting = null;
          node.restart(() => {
            note?.(drainRestart, 'heal', nodes);
            roll(index + 1);
          });
        };
        startWaiting = start;
        if (healed) start();
        else world.at(world.now + restartDelayMs, start);
      };
      // Stopping waits for the next event: `drained` arrives while the core's effects are carried out.
      node.drain(limits.drainReconnectMs, () => world.at(world.now, () => stop(false)));
      world.at(world.now + limits.drainTimeoutMs + closeGraceMs, () => stop(true));
    };

    roll(0);
    return () => {
      healed = true;
      startWaiting?.();
    };
  },
};
