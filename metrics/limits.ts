// Every bound of the harness metrics in one place: how often a run is sampled, how many samples a
// run keeps (the OpenMetrics file and the report are built from them), how big tracking arrays start.

export const recorderLimits = {
  /** A snapshot of every series per this many run ms (virtual in simulation). */
  sampleEveryMsDefault: 1000,
  /** Past this many snapshots (a very long run), later samples are not kept; the live values still move. */
  snapshotsMax: 20_000,
  /** Messages a conversation's tracking array holds at first; it doubles from here. */
  slotsInitial: 8,
} as const;
