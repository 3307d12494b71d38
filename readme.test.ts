// The docs claim only what the code does: every `npx chatsim ...` command the README shows names a
// subcommand whose --help lists each of its flags, with scenario and bug names that exist; every
// `npm run X` is a script; every relative link resolves inside the repository (a fresh clone carries
// what it links to); and .ci/run's per-step limits add up to less than the budget it states.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli/cli-error.ts';
import { main } from './cli/main.ts';
import { bugNames } from './reference-server/known-bugs/bugs.ts';
import { loadScenario } from './scenarios/load-scenario.ts';

const root = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Each `npx chatsim ...` command line in the README, up to a comment, a backtick or a closing paren. */
function chatsimCommands(markdown: string): string[][] {
  const commands: string[][] = [];
  for (const match of markdown.matchAll(/npx chatsim ([^`#)\n|]*)/g)) {
    // A quoted argument (a --server-cmd's own command line) is one word, not chatsim's flags.
    const words = match[1]!
      .replace(/"[^"]*"|'[^']*'/g, 'QUOTED')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    if (words.length > 0) commands.push(words);
  }
  return commands;
}

async function helpOf(subcommand: string): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => out.push(line), env: {} };
  const code = await main([subcommand, '--help'], io);
  return { code, text: out.join('\n') };
}

describe('README', () => {
  const commands = chatsimCommands(readme);

  it('shows chatsim commands (the parser finds them)', () => {
    expect(commands.length).toBeGreaterThan(8);
    expect(commands).toContainEqual(['gate', '--prove-bugs']);
  });

  it('names only subcommands and flags that exist', async () => {
    const helps = new Map<string, string>();
    for (const [subcommand, ...args] of commands) {
      if (!helps.has(subcommand!)) {
        const help = await helpOf(subcommand!);
        expect(help.code, `chatsim ${subcommand} --help`).toBe(0);
        helps.set(subcommand!, help.text);
      }
      for (const flag of args.filter((word) => word.startsWith('--')))
        expect(helps.get(subcommand!), `README: npx chatsim ${subcommand} ... ${flag}`).toMatch(
          new RegExp(`(^|[\\s,])${flag.replace(/=.*/, '')}\\b`),
        );
    }
  });

  it('names only scenarios and bugs that exist', () => {
    for (const [subcommand, ...args] of commands) {
      if (subcommand === 'sim' && args[0] !== undefined && !args[0].startsWith('-'))
        expect(() => loadScenario(args[0]!), `README: npx chatsim sim ${args[0]}`).not.toThrow();
      args.forEach((word, i) => {
        if (word === '--bug') expect(bugNames, `README: --bug ${args[i + 1]}`).toContain(args[i + 1]);
      });
    }
    for (const match of readme.matchAll(/--bug ([a-z-]+)/g)) expect(bugNames).toContain(match[1]);
  });

  it('runs only npm scripts that package.json has', () => {
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(Object.keys(scripts), `README: npm run ${script}`).toContain(script);
    expect(scripts.start).toBeDefined();
    expect(scripts.test).toBeDefined();
  });

  it('links only to files inside the repository that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((match) => match[1]!);
    for (const link of links.filter((target) => !/^[a-z]+:/.test(target))) {
      expect(link.startsWith('..'), `README links outside the repository: ${link}`).toBe(false);
      expect(existsSync(join(root, link)), `README links to a missing file: ${link}`).toBe(true);
    }
  });
});

describe('.ci/run', () => {
  const script = readFileSync(join(root, '.ci/run'), 'utf8');

  it('keeps its step limits, kill grace included, under the budget it states', () => {
    const budget = Number(/Budget: under (\d+) minutes/.exec(script)?.[1]);
    expect(budget).toBe(20);
    const limits = [...script.matchAll(/^step (\d+) /gm)].map((match) => Number(match[1]));
    expect(limits.length).toBeGreaterThanOrEqual(5);
    const killAfterS = Number(/--kill-after=(\d+)/.exec(script)?.[1]);
    expect(Number.isFinite(killAfterS)).toBe(true);
    const worstS = limits.reduce((sum, seconds) => sum + seconds + killAfterS, 0);
    expect(worstS, `steps ${limits.join('+')} s plus ${killAfterS} s each`).toBeLessThan(budget * 60);
  });

  it('bounds every step, the Debian install included', () => {
    const unbounded = script
      .split('\n')
      .filter((line) => /^(npm|node|npx|install_debian_packages)(\s|$)/.test(line));
    expect(unbounded).toEqual([]);
  });
});
