// Where a simulation's CPU time went: reads a V8 .cpuprofile (from `node --cpu-prof`) and prints the
// top functions by self time and the self time per area of the code (agenda, network, core, client,
// checkers, recorder, history-trace, ...), so docs/benchmarks.md can say what to make faster first.
// A profiled script with a source map beside it (bench/sim-profile.ts runs a bundle with one) is read
// through the map, so functions are named by their TypeScript file and line; tsx's own transform puts
// a whole module on one line, which leaves every anonymous function at `file:1`.
//   tsx bench/cpu-profile-summary.ts FILE.cpuprofile [top]

import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

export type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
};
type Profile = {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};

/** First matching rule names the area; order matters (more specific paths first). */
const areas: [string, RegExp][] = [
  ['agenda (kernel, event queue, trace hash)', /simulator\/(world\/agenda|kernel\/)/],
  ['network (links, load balancer)', /simulator\/world\/(network|load-balancer)/],
  ['world (dispatch, nodes, bus, storage)', /simulator\/world\//],
  ['history-trace', /simulator\/history-trace/],
  ['checkers', /simulator\/checkers\//],
  ['client (virtual client)', /simulator\/client\//],
  ['core (server)', /reference-server\/core\//],
  ['protocol (frames, validation)', /reference-server\/protocol\//],
  ['store (real log store)', /reference-server\/store\//],
  ['recorder (metrics)', /metrics\//],
  ['simulator (workload, run loop, other)', /simulator\//],
  ['node internals', /^node:|internal\//],
  ['dependencies', /node_modules/],
];

/** Where a frame's function is in the sources: the source map's answer when the script has a map. */
export type Place = { url: string; line: number };

/** Reads `<script>.map` beside each profiled file once; frames without one keep their own place. */
export function sourceMapPlaces(): (frame: CallFrame) => Place {
  const maps = new Map<string, { map: TraceMap; dir: string } | null>();
  const mapOf = (url: string) => {
    if (!maps.has(url)) {
      const path = url.startsWith('file://') ? fileURLToPath(url) : '';
      maps.set(
        url,
        path && existsSync(`${path}.map`)
          ? { map: new TraceMap(readFileSync(`${path}.map`, 'utf8')), dir: dirname(path) }
          : null,
      );
    }
    return maps.get(url)!;
  };
  return (frame) => {
    const own = { url: frame.url, line: frame.lineNumber + 1 };
    const found = frame.url ? mapOf(frame.url) : null;
    if (!found) return own;
    const original = originalPositionFor(found.map, {
      line: frame.lineNumber + 1,
      column: frame.columnNumber,
    });
    if (original.source === null || original.line === null) return own;
    const source = original.source.startsWith('file://')
      ? original.source
      : pathToFileURL(`${found.dir}/${original.source}`).href;
    return { url: source, line: original.line };
  };
}

export function summarize(
  profile: Profile,
  top: number,
  placeOf: (frame: CallFrame) => Place = (frame) => ({ url: frame.url, line: frame.lineNumber + 1 }),
): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    const place = placeOf(frame);
    total += micros;
    const file = place.url.replace(
      /^file:\/\/.*?\/(?=(simulator|reference-server|metrics|cli|node_modules)\/)/,
      '',
    );
    const name = `${frame.functionName || '(anonymous)'} ${file ? `${file}:${place.line}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const area =
      place.url === ''
        ? frame.functionName.startsWith('(')
          ? frame.functionName
          : 'V8 builtins / native'
        : (areas.find(([, pattern]) => pattern.test(place.url))?.[0] ?? 'other');
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
  }
  const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`profiled ${(total / 1e6).toFixed(1)} s of samples`, '', 'self time by area:'];
  for (const [area, micros] of [...byArea].sort((a, b) => b[1] - a[1]))
    lines.push(`  ${pct(micros)}  ${area}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${pct(micros)}  ${name}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('cpu-profile-summary.ts')) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/cpu-profile-summary.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(
    `${summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top) || 25, sourceMapPlaces())}\n`,
  );
}
