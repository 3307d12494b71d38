// `chatsim token --sub alice [--admin]`: prints an HS256 token signed with CHAT_JWT_SECRET, for curl,
// k6 scripts and manual testing against `chatsim serve`.

import type { Command } from 'commander';
import { isId } from '../reference-server/protocol/limits.ts';
import { mintToken } from '../reference-server/runtime/auth.ts';
import { CliError, type CliIo, commanderOutput } from './cli-error.ts';
import { parsePositiveInteger } from './limit-flags.ts';
import type { CommandResult } from './main.ts';
import { secretEnv } from './serve.ts';

type TokenFlags = { sub: string; admin?: boolean; expiresInSec?: number };

export function registerToken(program: Command, result: CommandResult, io: CliIo): void {
  program
    .command('token')
    .description(`print a client token (HS256 JWT) signed with ${secretEnv}`)
    .configureOutput(commanderOutput(io, 'chatsim token --help'))
    .requiredOption('--sub <user>', 'the user id (sub claim)')
    .option('--admin', 'add role "admin" (for the /v1/admin endpoints)')
    .option('--expires-in-sec <n>', 'lifetime in seconds (default 3600)', parsePositiveInteger)
    .action(async (flags: TokenFlags) => {
      const secret = io.env[secretEnv];
      if (!secret)
        throw new CliError(
          'CHATSIM_ERR_NO_SECRET',
          `${secretEnv} is not set: export the same secret the server uses`,
        );
      if (!isId(flags.sub))
        throw new CliError('CHATSIM_ERR_USAGE', '--sub must be 1-64 characters of [A-Za-z0-9_.:-]');
      io.out(
        await mintToken(secret, {
          sub: flags.sub,
          ...(flags.admin ? { admin: true } : {}),
          ...(flags.expiresInSec ? { expiresInSec: flags.expiresInSec } : {}),
        }),
      );
      result.exitCode = 0;
    });
}
