// A flaky link between one node and the shared store (Redis timing out under load, a lossy network
// path): a share of that node's store requests is lost on the way, each one drawn from the fault's own
// stream, and the node learns by its timeout (`unavailable`); the rest go through as usual. Unlike a
// store partition, the node keeps its bus and keeps being served most of the time, so its slow paths
// run: a membership hold whose record read is lost, a gap fill or catch-up read retried, an append
// failed and retried by the client under the same cmid. With `repliesFraction` it also loses that share
// of the replies to requests that got through, after the store carried them out (a connection dropped
// after Redis ran the command): an append durable whose node answers `unavailable`, whose client sends
// it again on the same connection, and whose node learns of its seq only from the duplicate's answer.

import { type Fault, nodeOf } from './fault.ts';

export const storeFlakyShareDefault = 0.3;

export const storeFlaky: Fault = {
  type: 'store-flaky',
  start(context) {
    const { world, spec, rng } = context;
    const node = nodeOf(context);
    world.network.setStoreLoss(
      [node],
      spec.fraction ?? storeFlakyShareDefault,
      rng,
      spec.repliesFraction ?? 0,
    );
    return () => world.network.setStoreLoss([node], 0, rng);
  },
};
