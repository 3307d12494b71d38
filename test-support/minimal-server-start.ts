// How tests start the minimal server (beside its directory, whose files import nothing of the reference
// server or the simulator): its main.ts bundled once per test process (serve-bundle.ts), as
// the live driver starts reference nodes and generators, so a start (and a restart after a crash or a
// drain) loads no TypeScript through tsx; through tsx only should the bundle fail. The same server: the
// bundle is its own nine modules, nothing of the reference server's.

import { scriptEntry, throughTsx } from '../simulator/live/serve-bundle.ts';

/** Node's arguments that run the minimal server (its flags follow). */
export async function minimalServerArgs(): Promise<string[]> {
  const entry = await scriptEntry('minimal-server', 'test-support/minimal-server/main.ts');
  return throughTsx(entry) ? ['--import', 'tsx', entry] : [entry];
}

/** The command line that runs it, for `--server-cmd` and fleet templates (its flags follow). */
export async function minimalServerCommand(): Promise<string> {
  return [process.execPath, ...(await minimalServerArgs())].join(' ');
}
