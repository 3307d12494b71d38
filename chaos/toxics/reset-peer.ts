// Toxiproxy's `reset_peer`: the first chunk (or EOF) in its direction is dropped, then after `timeout`
// ms (not interruptible) the link closes. On connections that had the toxic when they were accepted,
// both sockets close with RST (linger 0), so the client reads ECONNRESET.

import { INTERRUPTED } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const resetPeer: ToxicKind = {
  type: 'reset_peer',
  goStruct: 'ResetToxic',
  attributes: [['timeout', 'int64']],
  lingerZero: true,
  async pipe(stub, a) {
    const item = await stub.read();
    if (item === INTERRUPTED) return;
    if (a.timeout! > 0) await new Promise((resolve) => setTimeout(resolve, a.timeout!));
    stub.close();
  },
};
