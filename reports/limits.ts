// Bounds of the reports: how much of a witness is shown, so a run failing a million times still
// writes a report a browser opens at once.

export const reportLimits = {
  /** Witness cases shown per failed property (checkers keep at most a few anyway). */
  witnessCasesShown: 5,
  /** Characters of one witness case shown; the rest is in summary.json. */
  witnessCharsShown: 2000,
} as const;
