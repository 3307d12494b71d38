// The embedded Toxiproxy server in a child process of its own (`chatsim toxiproxy --port 0`). Each
// proxied connection costs the proxy two sockets and a process may hold at most 20,000 files here, so
// live runs with many clients spread their proxies over several of these.

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
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

export function spawnToxiproxy(args: readonly string[] = ['--port', '0']): Promise<ToxiproxyProcess> {
  const child: ChildProcess = spawn(process.execPath, [binPath, 'toxiproxy', ...args], {
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
