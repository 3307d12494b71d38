// `chatsim`'s entry: a thin dispatcher. Each subcommand registers itself from its own file; this file
// only turns every way of failing into a message on stderr (one line; a broken scenario file lists its
// problems one per line) and an exit code (2: fix the invocation).

import { Command, CommanderError } from 'commander';
import { registerCapacity } from './capacity.ts';
import { CliError, type CliIo, commanderOutput, processIo } from './cli-error.ts';
import { registerGate } from './gate.ts';
import { registerLive } from './live.ts';
import { registerServe } from './serve.ts';
import { registerSim } from './sim.ts';
import { registerToken } from './token.ts';
import { registerToxiproxy } from './toxiproxy.ts';

/** What a subcommand's action reports back: its exit code. */
export type CommandResult = { exitCode: number };

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  const program = new Command('chatsim')
    .description('Proves a chat system keeps its promises under faults; runs the reference chat server.')
    .exitOverride()
    .configureOutput(commanderOutput(io, 'chatsim --help'))
    .showSuggestionAfterError(true);
  registerServe(program, result, io);
  registerSim(program, result, io);
  registerGate(program, result, io);
  registerLive(program, result, io);
  registerCapacity(program, result, io);
  registerToken(program, result, io);
  registerToxiproxy(program, result, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliError) {
      io.err(`chatsim: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}
