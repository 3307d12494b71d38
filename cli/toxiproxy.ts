// `chatsim toxiproxy [--host H] [--port 8474] [--config proxies.json]`: the embedded
// Toxiproxy-compatible server on its own, for game days: point toxiproxy-cli, a Toxiproxy client
// library or curl at it. Runs until SIGINT or SIGTERM; a port it cannot take is one line and exit 2.

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { startToxiproxyServer, type ToxiproxyServer, toxiproxyVersion } from '../chaos/toxiproxy-server.ts';
import { CliError, type CliIo, commanderOutput, listenError } from './cli-error.ts';
import type { CommandResult } from './main.ts';
import { parsePort } from './serve.ts';

type ToxiproxyFlags = { host: string; port: number; config?: string; proxyMetrics?: boolean };

export function registerToxiproxy(program: Command, result: CommandResult, io: CliIo): void {
  program
    .command('toxiproxy')
    .description(
      `run the embedded Toxiproxy-compatible server alone (Toxiproxy ${toxiproxyVersion} HTTP API)`,
    )
    .configureOutput(commanderOutput(io, 'chatsim toxiproxy --help'))
    .option('--host <host>', 'address of the HTTP API (localhost listens on 127.0.0.1 only)', 'localhost')
    .option('--port <port>', 'port of the HTTP API (0 picks a free one)', parsePort, 8474)
    .option('--config <file>', 'a JSON array of proxies to create at start, as POST /populate takes')
    .option('--proxy-metrics', "serve byte counters per proxy at GET /metrics (Toxiproxy's -proxy-metrics)")
    .action(async (flags: ToxiproxyFlags) => {
      const config = flags.config === undefined ? undefined : await readConfig(flags.config);
      const server = await start(flags, (line) => io.out(line));
      if (config !== undefined) {
        const populated = await server.api.answer(() => server.api.populate(config));
        if (populated.status !== 201) {
          await server.close();
          const detail = 'populate' in populated ? populated.populate.error : `status ${populated.status}`;
          throw new CliError('CHATSIM_ERR_USAGE', `${flags.config}: ${detail}`);
        }
      }
      io.out(`toxiproxy: API on ${server.url} (Toxiproxy ${toxiproxyVersion} compatible); Ctrl-C stops it`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      io.out(`toxiproxy: ${signal}, closing every proxy`);
      await server.close();
      result.exitCode = 0;
    });
}

async function start(flags: ToxiproxyFlags, log: (line: string) => void): Promise<ToxiproxyServer> {
  try {
    return await startToxiproxyServer({
      host: flags.host,
      port: flags.port,
      proxyMetrics: flags.proxyMetrics === true,
      log: (line) => log(`toxiproxy: ${line}`),
    });
  } catch (error) {
    const cannotListen = listenError((error as { code?: unknown }).code, `${flags.host}:${flags.port}`);
    if (cannotListen) throw cannotListen;
    throw error;
  }
}

async function readConfig(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('CHATSIM_ERR_USAGE', `cannot read --config ${path}: ${(error as Error).message}`);
  }
}
