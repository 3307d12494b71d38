// Whether a soak's memory stayed flat (issue #6: "a live run can soak ... memory flat"): the
// least-squares slope of a process's resident set over the second half of its curve, after the
// connects and the heap's first growth, and the growth that slope makes over that half. Flat when it
// is within `flatShareMax` of the mean: a leak of a few KB per message shows as a steady climb over
// a 30-minute soak, while a heap that breathes around a level does not. One-sided: a heap that gives
// memory back is no leak.

/** Growth over the judged half, as a share of its mean, up to which memory counts as flat (no bound on shrinking). */
export const flatShareMax = 0.05;

export type RssTrend = {
  /** Start and end of the judged half (the curve's own clock, ms). */
  fromMs: number;
  toMs: number;
  points: number;
  meanBytes: number;
  slopeBytesPerMin: number;
  /** slope x (toMs - fromMs): what the fitted line grows over the judged half. */
  growthBytes: number;
  flat: boolean;
};

/** `curve`: [ms, resident bytes, ...] samples in time order. Null when too few to fit a line. */
export function rssTrend(curve: readonly (readonly number[])[]): RssTrend | null {
  if (curve.length < 4) return null;
  const first = curve[0]![0]!;
  const last = curve[curve.length - 1]![0]!;
  const fromMs = first + (last - first) / 2;
  const half = curve.filter((point) => point[0]! >= fromMs);
  if (half.length < 3) return null;
  const n = half.length;
  const meanX = half.reduce((sum, point) => sum + point[0]!, 0) / n;
  const meanY = half.reduce((sum, point) => sum + point[1]!, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const point of half) {
    covariance += (point[0]! - meanX) * (point[1]! - meanY);
    variance += (point[0]! - meanX) ** 2;
  }
  const slopePerMs = variance === 0 ? 0 : covariance / variance;
  const growthBytes = slopePerMs * (last - fromMs);
  return {
    fromMs,
    toMs: last,
    points: n,
    meanBytes: meanY,
    slopeBytesPerMin: slopePerMs * 60_000,
    growthBytes,
    flat: growthBytes <= flatShareMax * meanY,
  };
}
