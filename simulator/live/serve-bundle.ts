// The scripts a live run's processes start from, each bundled once per driver process with esbuild
// (packages left to node_modules, lazy imports kept lazy as chunks) instead of loaded through tsx,
// which compiles every TypeScript module through its loader thread at each start. Same code, same
// command line; only its loading differs.
// - The reference nodes and the embedded Toxiproxy's processes run the CLI (`serve`, `toxiproxy`). A
//   node restarted by a `node-crash` fault is down for its start-up on top of the fault's duration, and
//   its clients' reconnect backoff grows with the whole outage: `chatsim serve` to listening took 1.25 s
//   of CPU through tsx and 0.55 s bundled (docs/benchmarks.md, live10). Should the bundle fail, they
//   start through bin/chatsim.mjs.
// - The generators (generator.ts), and in tests the minimal server: loading a generator took 1.1-1.3 s
//   of CPU through tsx and 0.35-0.45 s bundled, before its run could start, once per run
//   (docs/benchmarks.md, suite21). Should the bundle fail, they start through tsx.
// Either way one line says so.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const binPath = join(root, 'bin', 'chatsim.mjs');
/** Inside node_modules, so the bundle's bare imports resolve to the project's packages. */
const cacheDir = join(root, 'node_modules', '.cache', 'chatsim-serve');

/** Each module keeps its own import.meta.url (files found beside it), not the bundle's. */
export const ownImportMetaUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(plugin) {
    plugin.onLoad({ filter: /\.ts$/ }, (file) => ({
      loader: 'ts',
      contents: readFileSync(file.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(file.path).href),
      ),
    }));
  },
};

let serve: Promise<string> | null = null;
const scripts = new Map<string, Promise<string>>();

/**
 * The bundled CLI, which reference nodes (node SCRIPT serve ...) and the embedded Toxiproxy's processes
 * (node SCRIPT toxiproxy ...) start from: built on the first call, then the same.
 */
export function serveEntry(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
  serve ??= bundle(
    'serve',
    "import { main } from './cli/main.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n",
  ).catch((error: Error) => {
    log(`chatsim: could not bundle the CLI (${error.message}); nodes and proxies start through tsx`);
    return binPath;
  });
  return serve;
}

/**
 * A script that runs on being loaded (`source`: its path from the package root) bundled as NAME.mjs:
 * built on the first call, then the same. When the bundle fails (said in one line), `source` itself,
 * which must then be started through tsx (`throughTsx`).
 */
export function scriptEntry(
  name: string,
  source: string,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string> {
  let entry = scripts.get(name);
  if (entry === undefined) {
    entry = bundle(name, `import './${source}';\n`).catch((error: Error) => {
      log(`chatsim: could not bundle ${source} (${error.message}); it starts through tsx`);
      return join(root, source);
    });
    scripts.set(name, entry);
  }
  return entry;
}

/** Whether `entry` (from `scriptEntry`) is the TypeScript source, not its bundle. */
export function throughTsx(entry: string): boolean {
  return entry.endsWith('.ts');
}

/** The script a generator process is forked from. */
export function generatorEntry(log?: (line: string) => void): Promise<string> {
  return scriptEntry('generator', 'simulator/live/generator.ts', log);
}

/** `contents`, an ES module beside the package root, bundled as NAME.mjs in a directory of its own. */
async function bundle(name: string, contents: string): Promise<string> {
  const { build } = await import('esbuild');
  removeOrphans();
  const outdir = join(cacheDir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(outdir, { recursive: true });
  removeAtExit(outdir);
  await build({
    stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.ts`, loader: 'ts' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    // Profiles of nodes and generators (CHATSIM_NODE_CPU_PROF_DIR, CHATSIM_GENERATOR_CPU_PROF_DIR) keep
    // function names and map back to the sources.
    keepNames: true,
    sourcemap: true,
    outdir,
    entryNames: name,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    plugins: [ownImportMetaUrl],
  });
  return join(outdir, `${name}.mjs`);
}

/** This process's bundle directories, removed when it exits (one exit listener for them all). */
const ownDirs: string[] = [];
function removeAtExit(dir: string): void {
  if (ownDirs.length === 0)
    process.once('exit', () => {
      for (const own of ownDirs) rmSync(own, { recursive: true, force: true });
    });
  ownDirs.push(dir);
}

/** Bundles of driver processes that are gone (killed before their exit handler ran). */
function removeOrphans(): void {
  if (!existsSync(cacheDir)) return;
  for (const name of readdirSync(cacheDir)) {
    const pid = Number(name.split('-', 1)[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && !alive(pid))
      rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
