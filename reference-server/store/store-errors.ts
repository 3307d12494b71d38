// Boundary errors of the durable store: the operator has to act on these (pick another data dir,
// inspect or restore a damaged log), so each carries a stable code and says what to do.

export class DataDirError extends Error {
  readonly code = 'CHATSIM_ERR_DATA_DIR';
}

/** Damage recovery must not repair on its own: anything but a torn tail of the last segment. */
export class LogCorruptError extends Error {
  readonly code = 'CHATSIM_ERR_LOG_CORRUPT';
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string, advice?: string) {
    super(
      `log file ${file} is corrupt at offset ${offset}: ${reason}. ` +
        (advice ??
          'Records before that offset are intact; restore the data dir from a backup, or move the damaged ' +
            'files away (losing what they hold) and restart.'),
    );
    this.file = file;
    this.offset = offset;
  }
}
