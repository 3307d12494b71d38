// `--bug <name>` (repeatable), shared by the commands that run a deliberate bug: its own file, so a
// command that takes it (`serve`) loads none of another command's modules.

import { InvalidArgumentError } from 'commander';
import { type BugName, bugNames, isBugName } from '../reference-server/known-bugs/bugs.ts';

export function collectBug(value: string, previous: BugName[]): BugName[] {
  if (!isBugName(value)) throw new InvalidArgumentError(`unknown bug; use one of: ${bugNames.join(', ')}`);
  return [...previous, value];
}
