// Toxiproxy's `noop`: data passes unchanged. The hidden first stub of every chain is one too.

import { noopPipe } from '../toxic-stub.ts';
import type { ToxicKind } from './toxic-kind.ts';

export const noop: ToxicKind = {
  type: 'noop',
  goStruct: 'NoopToxic',
  attributes: [],
  pipe: (stub) => noopPipe(stub),
};
