// The boundary errors of the command line: each has a stable code and a message that says what to do.
// Commands throw these; main.ts prints the message on one line and exits with `exitCode`.

export type CliErrorCode =
  | 'CHATSIM_ERR_USAGE'
  | 'CHATSIM_ERR_NO_SECRET'
  | 'CHATSIM_ERR_DATA_DIR'
  | 'CHATSIM_ERR_LISTEN'
  | 'CHATSIM_ERR_START'
  | 'CHATSIM_ERR_TARGET'
  | 'CHATSIM_ERR_LIVE_FAULT'
  | 'CHATSIM_ERR_REDIS'
  | 'CHATSIM_ERR_CASSANDRA'
  | 'CHATSIM_ERR_MEMORY';

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** 2 for anything the operator must fix in the invocation or environment; 1 for a failed start. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where a command writes; tests pass their own to read what it said. */
export type CliIo = {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
};

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/** Commander's output, with its errors on one line that ends by saying where the usage is. */
export function commanderOutput(io: CliIo, helpCommand: string) {
  return {
    writeOut: (text: string) => io.out(text.trimEnd()),
    writeErr: (text: string) => io.err(text.trimEnd()),
    outputError: (text: string, write: (text: string) => void) =>
      write(`chatsim: ${text.trim().replace(/\s*\n\s*/g, ' ')} (see '${helpCommand}')`),
  };
}

/** The one line for a listen address a command cannot take; null if the error is not about that. */
export function listenError(code: unknown, where: string): CliError | null {
  if (code === 'EADDRINUSE')
    return new CliError('CHATSIM_ERR_LISTEN', `${where} is in use: pick another --port (0 picks a free one)`);
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new CliError(
      'CHATSIM_ERR_LISTEN',
      `cannot listen on ${where} (${String(code)}): check --host and --port`,
    );
  return null;
}
