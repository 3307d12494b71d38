// The embedded Toxiproxy server in a child process of its own (`chatsim toxiproxy --port 0`). Each
// proxied connection costs the proxy two sockets and a process may hold at most 20,000 files here, so
// live runs with many clients spread their proxies over several of these. Started from the CLI bundled
// once per driver process, as reference nodes are (simulator/live/serve-bundle.ts): the same command,
// without tsx compiling the CLI at each start, once or more per live run with network faults.

import { type ChildProcess, spawn } from 'node:child_process';
import { serveEntry } from '../simulator/live/serve-bundle.ts';

const readyPattern = /API on (http:\/\/\S+) /;

export type ToxiproxyProcess = {
  url: string;
  pid: number;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
};

export class ToxiproxyProcessError extends Error {
  readonly code = 'CHATSIM_ERR_TOXIPROXY_START';
}

export async function spawnToxiproxy(args: readonly string[] = ['--port', '0']): Promise<ToxiproxyProcess> {
  const child: ChildProcess = spawn(process.execPath, [await serveEntry(), 'toxiproxy', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let said = '';
  return new Promise((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      said += chunk.toString();
      const match = readyPattern.exec(said);
      if (!match) return;
      child.stdout!.off('data', onOutput);
      child.stdout!.resume();
      child.stderr!.resume();
      resolve({
        url: match[1]!,
        pid: child.pid!,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    child.once('exit', (code) =>
      reject(
        new ToxiproxyProcessError(`chatsim toxiproxy exited (${code}) before it was ready: ${said.trim()}`),
      ),
    );
    child.once('error', (error) =>
      reject(new ToxiproxyProcessError(`cannot start chatsim toxiproxy: ${error.message}`)),
    );
  });
}
