// Profiles one `chatsim sim` run and prints where its CPU time went, by area and by function, named by
// TypeScript file and line: the CLI is bundled with esbuild (names kept, a source map beside it) and run
// under `node --cpu-prof`, then bench/cpu-profile-summary.ts reads the main thread's profile through the
// map. The run is the same code and the same trace hash as `npx chatsim sim`; only its loading differs.
// `--alloc`: where its garbage came from instead (V8's sampling heap profiler, every byte allocated
// counted, freed or not; bench/alloc-profile-summary.ts).
//   npx tsx bench/sim-profile.ts steady --clients 100000 --seed 1 [--top 40] [--alloc]

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ownImportMetaUrl } from '../simulator/live/serve-bundle.ts';
import { summarizeAllocations } from './alloc-profile-summary.ts';
import { sourceMapPlaces, summarize } from './cpu-profile-summary.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside node_modules, so the bundle's bare imports resolve to the project's packages; each module keeps
// its own import.meta.url (scenarios/ finds its files by it).
const outDir = join(root, 'node_modules', '.cache', 'chatsim-profile');

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 40;
const allocAt = args.indexOf('--alloc');
const alloc = allocAt >= 0;
if (alloc) args.splice(allocAt, 1);
if (args.length === 0) {
  process.stderr.write('usage: npx tsx bench/sim-profile.ts SCENARIO [sim options...] [--top N] [--alloc]\n');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(root, 'cli', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  keepNames: true,
  target: 'node20',
  outfile: join(outDir, 'main.mjs'),
  logLevel: 'warning',
  plugins: [ownImportMetaUrl],
});
writeFileSync(
  join(outDir, 'run.mjs'),
  "import { main } from './main.mjs';\nprocess.exitCode = await main(process.argv.slice(2));\n",
);
// The sampling heap profiler is started before the run and stopped after it, in the run's own process.
writeFileSync(
  join(outDir, 'run-alloc.mjs'),
  [
    "import { writeFileSync } from 'node:fs';",
    "import { Session } from 'node:inspector/promises';",
    "import { main } from './main.mjs';",
    'const session = new Session();',
    'session.connect();',
    "await session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });",
    'process.exitCode = await main(process.argv.slice(3));',
    "const { profile } = await session.post('HeapProfiler.stopSampling');",
    'writeFileSync(process.argv[2], JSON.stringify(profile));',
    '',
  ].join('\n'),
);
const profileDir = join(outDir, `profile-${Date.now()}`);
const heapMb = Math.floor((totalmem() / 1024 / 1024) * 0.75);
if (alloc) {
  mkdirSync(profileDir, { recursive: true });
  const file = join(profileDir, 'alloc.heapprofile');
  const run = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      '--max-semi-space-size=64',
      join(outDir, 'run-alloc.mjs'),
      file,
      'sim',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CHATSIM_REEXEC: '1' } },
  );
  if (run.status === null || run.status > 3) process.exit(1);
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  process.stdout.write(`${file}\n${summarizeAllocations(profile, top, sourceMapPlaces())}\n`);
  process.exit(0);
}
const run = spawnSync(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
    `--max-old-space-size=${heapMb}`,
    '--max-semi-space-size=64',
    join(outDir, 'run.mjs'),
    'sim',
    ...args,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CHATSIM_REEXEC: '1' } },
);
// 0 to 3 are the run's verdicts; anything else (2 is a bad command line too) shows on stderr.
if (run.status === null || run.status > 3) process.exit(1);
// One profile per thread, named CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the world's;
// the loader's thread writes a small one, and the checker thread (sim --checker-thread) a large one.
const profiles = readdirSync(profileDir)
  .map((name) => join(profileDir, name))
  .sort((a, b) => statSync(b).size - statSync(a).size);
const mainProfile = profiles.find((file) => file.split('.').at(-3) === '0') ?? profiles[0]!;
const places = sourceMapPlaces();
process.stdout.write(
  `${mainProfile}\n${summarize(JSON.parse(readFileSync(mainProfile, 'utf8')), top, places)}\n`,
);
const checkerProfile = profiles.find((file) => file !== mainProfile);
if (checkerProfile !== undefined && statSync(checkerProfile).size > statSync(mainProfile).size / 10)
  process.stdout.write(
    `\nthe checker thread (loaded through tsx, not the bundle: areas hold, lines may not)\n${checkerProfile}\n${summarize(JSON.parse(readFileSync(checkerProfile, 'utf8')), top, places)}\n`,
  );
