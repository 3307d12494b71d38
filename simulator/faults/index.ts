// Every fault by its scenario name.

import type { FaultType } from '../../scenarios/scenario.ts';
import { bandwidth } from './bandwidth.ts';
import { clockOffset } from './clock-offset.ts';
import { crashDuringRecovery } from './crash-during-recovery.ts';
import { diskBitflip } from './disk-bitflip.ts';
import { diskFsyncError } from './disk-fsync-error.ts';
import { diskFull } from './disk-full.ts';
import { diskLostFlush } from './disk-lost-flush.ts';
import { diskMisdirectedWrite } from './disk-misdirected-write.ts';
import { diskOpenError } from './disk-open-error.ts';
import { diskSlow } from './disk-slow.ts';
import { diskTornWrite } from './disk-torn-write.ts';
import type { Fault } from './fault.ts';
import { latency } from './latency.ts';
import { nodeCrash } from './node-crash.ts';
import { nodePause } from './node-pause.ts';
import { partition } from './partition.ts';
import { reconnectStorm } from './reconnect-storm.ts';
import { redisLatency } from './redis-latency.ts';
import { resetPeer } from './reset-peer.ts';
import { rollingRestart } from './rolling-restart.ts';
import { slowConsumer } from './slow-consumer.ts';
import { storeFlaky } from './store-flaky.ts';
import { storeOutage } from './store-outage.ts';
import { timeout } from './timeout.ts';

export const faults: Record<FaultType, Fault> = {
  partition,
  latency,
  bandwidth,
  timeout,
  reset_peer: resetPeer,
  'node-crash': nodeCrash,
  'node-pause': nodePause,
  'store-outage': storeOutage,
  'store-flaky': storeFlaky,
  'slow-consumer': slowConsumer,
  'reconnect-storm': reconnectStorm,
  'clock-offset': clockOffset,
  'rolling-restart': rollingRestart,
  'redis-latency': redisLatency,
  'disk-torn-write': diskTornWrite,
  'disk-fsync-error': diskFsyncError,
  'disk-full': diskFull,
  'disk-bitflip': diskBitflip,
  'disk-misdirected-write': diskMisdirectedWrite,
  'disk-lost-flush': diskLostFlush,
  'disk-open-error': diskOpenError,
  'disk-slow': diskSlow,
  'crash-during-recovery': crashDuringRecovery,
};
