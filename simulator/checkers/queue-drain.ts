// How long a server node's queue still drained after a moment, as the harness saw it: the latest ack,
// on that node, of a send issued at or before the moment. A frame that has no answer of its own (a
// cursor) is taken in turn behind everything queued before it, so what it causes (a receipt) cannot be
// due before that queue drained. Sends issued in the seconds before the moment are not enough: in a
// settle phase nothing is issued, while a loaded node may drain a backlog for minutes (live large-group
// at 200 clients: acks of sends issued before settle came 30-120 s later, and every cursor moved in
// settle was blamed 5 s after it was sent).
// Only sends acked on the session they were issued on count (the caller's filter): a send held in an
// offline device's outbox waited for the device, not for the node.

/** Sends issued this close together count as one (ms): bounds the entries kept per node to 10 a second. */
const issueGrainMs = 100;

/**
 * Per node, the "front" of (issued, acked) pairs: issue times and ack times both strictly increasing,
 * so the latest ack of sends issued by `t` is the ack of the last pair issued by `t`. A pair issued no
 * earlier than another and acked no later adds nothing and is not kept.
 */
class Front {
  readonly issued: number[] = [];
  readonly acked: number[] = [];

  add(issuedAt: number, ackedAt: number): void {
    const at = this.lastBy(issuedAt);
    if (at >= 0 && this.acked[at]! >= ackedAt) return;
    // Pairs issued later and acked no later than this one are covered by it.
    let end = at + 1;
    while (end < this.issued.length && this.acked[end]! <= ackedAt) end++;
    if (at >= 0 && issuedAt - this.issued[at]! < issueGrainMs) {
      // The same grain as an earlier send: its latest ack is this one (10 entries a second at most).
      this.acked[at] = ackedAt;
      this.issued.splice(at + 1, end - at - 1);
      this.acked.splice(at + 1, end - at - 1);
      return;
    }
    this.issued.splice(at + 1, end - at - 1, issuedAt);
    this.acked.splice(at + 1, end - at - 1, ackedAt);
  }

  /** The latest ack of a send issued at or before `t` (-infinity: none). */
  drainedBy(t: number): number {
    const at = this.lastBy(t);
    return at < 0 ? Number.NEGATIVE_INFINITY : this.acked[at]!;
  }

  /** The index of the last pair issued at or before `t` (-1: none). */
  private lastBy(t: number): number {
    let low = 0;
    let high = this.issued.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.issued[mid]! <= t) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  }
}

export class QueueDrain {
  /** Node -> its front; '' for sends whose node the harness did not learn. */
  private readonly fronts = new Map<string, Front>();

  /** A send issued at `issuedAt` on a session with `node` (undefined: not known) was acked at `ackedAt`. */
  acked(node: string | undefined, issuedAt: number, ackedAt: number): void {
    const key = node ?? '';
    let front = this.fronts.get(key);
    if (front === undefined) {
      front = new Front();
      this.fronts.set(key, front);
    }
    front.add(issuedAt, ackedAt);
  }

  /**
   * The latest ack of a send issued at or before `t` on any of `nodes`, or on a node not known
   * (-infinity: none). A node not known among `nodes` widens it to every node.
   */
  drainedBy(t: number, nodes: readonly (string | undefined)[]): number {
    const every = nodes.includes(undefined);
    let drained = Number.NEGATIVE_INFINITY;
    for (const [node, front] of this.fronts)
      if (every || node === '' || nodes.includes(node)) drained = Math.max(drained, front.drainedBy(t));
    return drained;
  }
}
