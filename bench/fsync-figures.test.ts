import { describe, expect, it } from 'vitest';
import { fsyncFiguresOf } from './fsync-figures.ts';

const exposition = `# HELP chatsim_store_fsync_seconds Duration of one fsync of the message log
# TYPE chatsim_store_fsync_seconds histogram
chatsim_store_fsync_seconds_bucket{le="0.0005"} 10
chatsim_store_fsync_seconds_bucket{le="+Inf"} 40
chatsim_store_fsync_seconds_sum 0.08
chatsim_store_fsync_seconds_count 40
# TYPE chatsim_store_fsync_records_total counter
chatsim_store_fsync_records_total 1000
chatsim_store_fsync_records_total_extra 5
chatsim_ack_latency_seconds_sum 3
chatsim_ack_latency_seconds_count 1000
`;

describe('fsyncFiguresOf', () => {
  it('reads count, mean duration and records per fsync', () => {
    expect(fsyncFiguresOf(exposition)).toEqual({
      fsyncs: 40,
      fsyncMsMean: 2,
      recordsPerFsync: 25,
      ackMsMean: 3,
    });
  });

  it('gives zeros before the first fsync and null when a series is missing', () => {
    const idle = exposition
      .replace('_sum 0.08', '_sum 0')
      .replace('_count 40', '_count 0')
      .replace('_total 1000', '_total 0');
    expect(fsyncFiguresOf(idle.replace('_count 1000', '_count 0'))).toEqual({
      fsyncs: 0,
      fsyncMsMean: 0,
      recordsPerFsync: 0,
      ackMsMean: null,
    });
    expect(fsyncFiguresOf('chatsim_store_fsync_seconds_count 3\n')).toBeNull();
  });
});
