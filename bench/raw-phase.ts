// The raw `ws` phases: start the bare echo or broadcast server in its own process, drive it with the
// same load workers, window and body size as the chatsim phases, and stop it. These figures are the
// ceiling the chatsim figures are divided by.

import { fileURLToPath } from 'node:url';
import type { BenchOptions } from './bench-options.ts';
import type { ChildGroup } from './child-group.ts';
import { benchLimits } from './limits.ts';
import { groupCount, type PhaseFigures, planBase, runLoadPhase } from './load-phase.ts';
import type { ClientSpec } from './load-plan.ts';

const serverPath = fileURLToPath(new URL('./raw-ws-server.ts', import.meta.url));
const listeningPattern = /raw-ws \w+: listening on (ws:\/\/127\.0\.0\.1:\d+)/;

export type RawMode = 'echo' | 'broadcast';

export async function runRawPhase(
  group: ChildGroup,
  mode: RawMode,
  options: BenchOptions,
): Promise<PhaseFigures> {
  const server = group.fork(`raw-ws-${mode}`, serverPath, [mode]);
  try {
    const [, url] = await server.waitForLine(listeningPattern, benchLimits.serverStartTimeoutMs);
    return await runLoadPhase(
      group,
      {
        ...planBase(options),
        dialect: mode === 'echo' ? 'raw-echo' : 'raw-broadcast',
        url: url!,
        clients: mode === 'echo' ? echoClients(options.connections) : roomClients(options.groupConnections),
      },
      options.loadProcesses,
      server.process.pid,
    );
  } finally {
    await group.stop(server);
  }
}

function echoClients(connections: number): ClientSpec[] {
  return Array.from({ length: connections }, (_, i) => ({ id: `c${i}` }));
}

function roomClients(connections: number): ClientSpec[] {
  const clients: ClientSpec[] = [];
  for (let room = 0; room < groupCount(connections); room++) {
    for (let member = 0; member < benchLimits.groupSize; member++) {
      clients.push({ id: `r${room}m${member}`, room: `r${room}` });
    }
  }
  return clients;
}
