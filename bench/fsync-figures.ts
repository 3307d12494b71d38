// What the chatsim server says about its own durability work during a phase, read from /metrics:
// how many fsyncs it ran, how long they took, how many records each covered (group commit), and its
// own mean send-to-ack time. This makes "acked msgs/s with fsync" checkable rather than assumed, and
// tells server-side latency apart from queueing in the load generator.

export type FsyncFigures = {
  fsyncs: number;
  fsyncMsMean: number;
  recordsPerFsync: number;
  /** From a send frame received to its ack sent, as the server measures it; null without acks. */
  ackMsMean: number | null;
};

/** The value of an unlabelled sample `name` in a Prometheus text exposition, or null. */
function sample(exposition: string, name: string): number | null {
  const line = exposition.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) return null;
  const value = Number(
    line
      .slice(name.length + 1)
      .trim()
      .split(' ')[0],
  );
  return Number.isFinite(value) ? value : null;
}

export function fsyncFiguresOf(exposition: string): FsyncFigures | null {
  const fsyncs = sample(exposition, 'chatsim_store_fsync_seconds_count');
  const seconds = sample(exposition, 'chatsim_store_fsync_seconds_sum');
  const records = sample(exposition, 'chatsim_store_fsync_records_total');
  if (fsyncs === null || seconds === null || records === null) return null;
  const acks = sample(exposition, 'chatsim_ack_latency_seconds_count');
  const ackSeconds = sample(exposition, 'chatsim_ack_latency_seconds_sum');
  return {
    fsyncs,
    fsyncMsMean: fsyncs > 0 ? (seconds * 1000) / fsyncs : 0,
    recordsPerFsync: fsyncs > 0 ? records / fsyncs : 0,
    ackMsMean: acks !== null && ackSeconds !== null && acks > 0 ? (ackSeconds * 1000) / acks : null,
  };
}

/** Scrapes the server; null when /metrics does not answer or lacks the fsync series. */
export async function scrapeFsyncFigures(httpUrl: string): Promise<FsyncFigures | null> {
  try {
    const response = await fetch(`${httpUrl}/metrics`);
    return response.ok ? fsyncFiguresOf(await response.text()) : null;
  } catch {
    return null;
  }
}
