// Toxiproxy 2.12's toxic registry. `down` is not a toxic: disable the proxy instead.

import { bandwidth } from './bandwidth.ts';
import { latency } from './latency.ts';
import { limitData } from './limit-data.ts';
import { noop } from './noop.ts';
import { resetPeer } from './reset-peer.ts';
import { slicer } from './slicer.ts';
import { slowClose } from './slow-close.ts';
import { timeout } from './timeout.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const toxicKinds: ReadonlyMap<string, ToxicKind> = new Map(
  [noop, latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData].map((kind) => [
    kind.type,
    kind,
  ]),
);
