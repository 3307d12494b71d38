// `chatsim`'s entry: a thin dispatcher. Each subcommand registers itself from its own file; this file
// only turns every way of failing into a message on stderr (one line; a broken scenario file lists its
// problems one per line) and an exit code (2: fix the invocation).

import { Command, CommanderError } from 'commander';
import { CliError, type CliIo, commanderOutput, processIo } from './cli-error.ts';

/** What a subcommand's action reports back: its exit code. */
export type CommandResult = { exitCode: number };

type Register = (program: Command, result: CommandResult, io: CliIo) => void;

/**
 * Each subcommand's module, loaded only when needed: `chatsim serve` loads the server's modules, not
 * the simulator's (a server spawned by a live run or a test started in ~1 s less CPU). In help order.
 */
const subcommands: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./serve.ts')).registerServe,
  sim: async () => (await import('./sim.ts')).registerSim,
  gate: async () => (await import('./gate.ts')).registerGate,
  live: async () => (await import('./live.ts')).registerLive,
  capacity: async () => (await import('./capacity.ts')).registerCapacity,
  token: async () => (await import('./token.ts')).registerToken,
  toxiproxy: async () => (await import('./toxiproxy.ts')).registerToxiproxy,
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  const program = new Command('chatsim')
    .description('Proves a chat system keeps its promises under faults; runs the reference chat server.')
    .exitOverride()
    .configureOutput(commanderOutput(io, 'chatsim --help'))
    .showSuggestionAfterError(true);
  // A named subcommand parses the same with the others left out; anything else (no command, --help,
  // `help`, a misspelt one: suggestions) sees them all.
  const named =
    argv[0] !== undefined && Object.hasOwn(subcommands, argv[0]) ? [argv[0]] : Object.keys(subcommands);
  for (const name of named) (await subcommands[name]!())(program, result, io);
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
