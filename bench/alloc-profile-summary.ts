// Where a simulation's garbage came from: reads a V8 sampling heap profile taken with the objects both
// collectors freed kept in it (so it counts every byte allocated, not what survived; bench/sim-profile.ts
// `--alloc` takes one) and prints the top allocating functions, named by TypeScript file and line through
// the bundle's source map. A builtin that allocates (Array.prototype.sort's copy, a Map growing, an
// iterator's result) is charged to the function that called it, which is the line to change.

import type { CallFrame, Place } from './cpu-profile-summary.ts';

export type AllocationNode = { callFrame: CallFrame; selfSize: number; children: AllocationNode[] };
export type AllocationProfile = { head: AllocationNode };

export function summarizeAllocations(
  profile: AllocationProfile,
  top: number,
  placeOf: (frame: CallFrame) => Place = (frame) => ({ url: frame.url, line: frame.lineNumber + 1 }),
): string {
  const bySite = new Map<string, number>();
  let total = 0;
  const nameOf = (frame: CallFrame): string => {
    const place = placeOf(frame);
    const file = place.url.replace(
      /^file:\/\/.*?\/(?=(simulator|reference-server|metrics|cli|bench|node_modules)\/)/,
      '',
    );
    return `${frame.functionName || '(anonymous)'} ${file}:${place.line}`;
  };
  // Iterative: a deep call tree must not overflow the stack. `site` is the nearest caller with a script.
  const stack: { node: AllocationNode; site: string }[] = [{ node: profile.head, site: '(root)' }];
  while (stack.length > 0) {
    const { node, site } = stack.pop()!;
    const own = node.callFrame.url === '' ? null : nameOf(node.callFrame);
    if (node.selfSize > 0) {
      const name = own ?? `${node.callFrame.functionName || '(native)'} < ${site}`;
      bySite.set(name, (bySite.get(name) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) stack.push({ node: child, site: own ?? site });
  }
  const lines = [
    `allocated ${(total / 2 ** 20).toFixed(0)} MiB (sampled)`,
    '',
    `top ${top} allocating sites:`,
  ];
  for (const [name, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  return lines.join('\n');
}
