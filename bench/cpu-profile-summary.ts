// Where a simulation's CPU time went: reads a V8 .cpuprofile (from `node --cpu-prof`) and prints the
// top functions by self time and the self time per area of the code (agenda, network, core, client,
// checkers, recorder, history-trace, ...), so docs/benchmarks.md can say what to make faster first.
//   tsx bench/cpu-profile-summary.ts FILE.cpuprofile [top]

import { readFileSync } from 'node:fs';

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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

export function summarize(profile: Profile, top: number): string {
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
    total += micros;
    const file = frame.url.replace(
      /^file:\/\/.*?\/(?=(simulator|reference-server|metrics|cli|node_modules)\/)/,
      '',
    );
    const name =
      `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const area =
      frame.url === ''
        ? frame.functionName.startsWith('(')
          ? frame.functionName
          : 'V8 builtins / native'
        : (areas.find(([, pattern]) => pattern.test(frame.url))?.[0] ?? 'other');
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
    `${summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top) || 25)}\n`,
  );
}
