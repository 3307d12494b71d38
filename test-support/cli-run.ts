// One CLI invocation inside the test process: `main` with an io that keeps what it printed.

import type { CliIo } from '../cli/cli-error.ts';
import { main } from '../cli/main.ts';

export type CapturedIo = { io: CliIo; out: string[]; err: string[] };

/** An io whose lines are kept, stdout and stderr apart. */
export function captureIo(env: CliIo['env'] = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line), env }, out, err };
}

/** `chatsim ...args`: its exit code and the lines it printed. */
export async function runCli(
  args: string[],
  env: CliIo['env'] = {},
): Promise<{ code: number; out: string[]; err: string[] }> {
  const { io, out, err } = captureIo(env);
  const code = await main(args, io);
  return { code, out, err };
}
