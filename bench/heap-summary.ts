// What a simulated run's heap holds, by constructor: runs one scenario in this process, writes a V8 heap
// snapshot (after a full collection, so only live objects) once the run is a given share done, and
// prints the live objects grouped by kind and constructor name, largest self size first. It answers
// "where does the memory of a million clients go" with counts, where a CPU profile cannot.
//   node --max-old-space-size=16000 --import tsx bench/heap-summary.ts million --clients 20000 --seed 1 \
//     [--at 0.4] [--top 40] [--checker-thread on|off] [--keep yes]
//   node --import tsx bench/heap-summary.ts --snapshot FILE.heapsnapshot   # summarize one already written
// The snapshot file is read without parsing it as one string (it outgrows V8's longest string).

import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';

export type HeapGroup = { kind: string; name: string; count: number; selfBytes: number };
export type HeapSummary = { groups: HeapGroup[]; holders: HeapGroup[]; totalBytes: number };

/** The unsigned integers of the snapshot's array named `key`, up to its closing bracket. */
function numbersOf(bytes: Buffer, key: string): Float64Array {
  let at = bytes.indexOf(`"${key}":[`) + key.length + 4;
  let values = new Float64Array(1 << 20);
  let count = 0;
  let value = 0;
  let inNumber = false;
  for (; at < bytes.length; at++) {
    const byte = bytes[at]!;
    if (byte >= 48 && byte <= 57) {
      value = value * 10 + (byte - 48);
      inNumber = true;
      continue;
    }
    if (inNumber) {
      if (count === values.length) {
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = grown;
      }
      values[count++] = value;
      value = 0;
      inNumber = false;
    }
    if (byte === 93) break; // ']'
  }
  return values.subarray(0, count);
}

/** Kinds and names that only hold other things: memory in them is charged to whoever holds them. */
const containers = new Set([
  'array',
  'hidden',
  'code',
  'object shape',
  'native',
  'object:Object',
  'object:Array',
  'object:Map',
  'object:Set',
  'object:ArrayBuffer',
  'object:Uint8Array',
  'object:Uint16Array',
  'object:Uint32Array',
  'object:Int32Array',
  'object:Float64Array',
]);

/**
 * Live objects of a .heapsnapshot grouped by (node type, name): constructor names for objects. Plain
 * containers (arrays, `Object`s, `Map`s, backing stores) are named by the path from the nearest object
 * of a class that holds them (`array: in VirtualClient.watched.elements`), through one retainer each.
 */
export function summarizeHeapSnapshot(file: string): HeapSummary {
  const bytes = readFileSync(file);
  const nodesAt = bytes.indexOf('"nodes":[');
  const header = JSON.parse(`${bytes.subarray(0, nodesAt).toString('utf8').replace(/,\s*$/, '')}}`);
  const meta = header.snapshot.meta as {
    node_fields: string[];
    node_types: [string[], ...unknown[]];
    edge_fields: string[];
    edge_types: [string[], ...unknown[]];
  };
  const fieldCount = meta.node_fields.length;
  const typeField = meta.node_fields.indexOf('type');
  const nameField = meta.node_fields.indexOf('name');
  const sizeField = meta.node_fields.indexOf('self_size');
  const edgeCountField = meta.node_fields.indexOf('edge_count');
  const typeNames = meta.node_types[0];
  const edgeFieldCount = meta.edge_fields.length;
  const edgeTypeNames = meta.edge_types[0];
  const stringsAt = bytes.lastIndexOf('"strings":[');
  const strings = JSON.parse(
    bytes
      .subarray(stringsAt + '"strings":'.length)
      .toString('utf8')
      .replace(/}\s*$/, ''),
  ) as string[];
  const nodes = numbersOf(bytes, 'nodes');
  const edges = numbersOf(bytes, 'edges');
  const nodeCount = nodes.length / fieldCount;
  // One retainer per node (the first strong one met), and the edge's name.
  const parent = new Int32Array(nodeCount).fill(-1);
  const parentEdge = new Array<string>(nodeCount);
  let edge = 0;
  for (let node = 0; node < nodeCount; node++) {
    const count = nodes[node * fieldCount + edgeCountField]!;
    for (let e = 0; e < count; e++, edge += edgeFieldCount) {
      const edgeType = edgeTypeNames[edges[edge]!]!;
      if (edgeType === 'weak' || edgeType === 'shortcut') continue;
      const to = edges[edge + 2]! / fieldCount;
      if (parent[to] !== -1) continue;
      parent[to] = node;
      const nameOrIndex = edges[edge + 1]!;
      parentEdge[to] = edgeType === 'element' || edgeType === 'hidden' ? '[]' : (strings[nameOrIndex] ?? '?');
    }
  }
  const kindOf = (node: number): string => typeNames[nodes[node * fieldCount + typeField]!] ?? '?';
  const nameOf = (node: number): string => strings[nodes[node * fieldCount + nameField]!] ?? '?';
  const isContainer = (node: number): boolean => {
    const kind = kindOf(node);
    return containers.has(kind) || containers.has(`${kind}:${nameOf(node)}`);
  };
  const groups = new Map<string, HeapGroup>();
  // The same bytes by holder alone: the class whose instances hold them (or the object's own class).
  const holders = new Map<string, HeapGroup>();
  let totalBytes = 0;
  for (let node = 0; node < nodeCount; node++) {
    const kind = kindOf(node);
    const size = nodes[node * fieldCount + sizeField]!;
    totalBytes += size;
    // Strings are named by kind alone (their names are their contents), numbers likewise.
    let label = kind.endsWith('string') || kind === 'number' ? kind : `${kind}:${nameOf(node)}`;
    let holder = label;
    if ((isContainer(node) || kind.endsWith('string') || kind === 'number') && parent[node] !== -1) {
      // A typed array's bytes are charged to whoever holds the typed array.
      const path: string[] = [];
      let at = node;
      for (let depth = 0; depth < 4 && parent[at] !== -1; depth++) {
        path.unshift(parentEdge[at]!);
        at = parent[at]!;
        if (!isContainer(at)) break;
      }
      label = `${label} in ${nameOf(at)}.${path.join('.')}`;
      holder = nameOf(at);
    }
    const held = holders.get(holder) ?? { kind: '', name: holder, count: 0, selfBytes: 0 };
    held.count++;
    held.selfBytes += size;
    holders.set(holder, held);
    const group = groups.get(label) ?? { kind, name: label, count: 0, selfBytes: 0 };
    group.count++;
    group.selfBytes += size;
    groups.set(label, group);
  }
  const bySize = (a: HeapGroup, b: HeapGroup): number => b.selfBytes - a.selfBytes;
  return {
    groups: [...groups.values()].sort(bySize),
    holders: [...holders.values()].sort(bySize),
    totalBytes,
  };
}

export function heapTable(summary: HeapSummary, top: number): string {
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
  const rows = (groups: HeapGroup[]): string[] =>
    groups
      .slice(0, top)
      .map(
        (group) =>
          `| ${group.name.slice(0, 90).replaceAll('|', '\\|')} | ${group.count} | ${mib(group.selfBytes)} | ${((100 * group.selfBytes) / summary.totalBytes).toFixed(1)}% |`,
      );
  return [
    `live heap ${mib(summary.totalBytes)} MiB (self sizes, typed arrays' bytes included)`,
    '',
    '| held by | objects | MiB | share |',
    '| --- | --- | --- | --- |',
    ...rows(summary.holders),
    '',
    '| what (kind:constructor, or the path from its holder) | count | MiB | share |',
    '| --- | --- | --- | --- |',
    ...rows(summary.groups),
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const option = (name: string, fallback: string): string => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv.splice(at, 2)[1]! : fallback;
  };
  const clients = Number(option('--clients', '20000'));
  const seed = Number(option('--seed', '1'));
  const takeAt = Number(option('--at', '0.4'));
  const top = Number(option('--top', '40'));
  const checkerThread = option('--checker-thread', 'off') === 'on';
  const existing = option('--snapshot', '');
  if (existing !== '') {
    process.stdout.write(`${heapTable(summarizeHeapSnapshot(existing), top)}\n`);
    return;
  }
  const keep = option('--keep', '') === 'yes';
  const name = argv[0] ?? 'million';
  const file = join(tmpdir(), `chatsim-heap-${process.pid}.heapsnapshot`);
  let taken = false;
  const summary = await runScenario(loadScenario(name), {
    seed,
    clients,
    checkerThread,
    progress: (done) => {
      if (taken || done < takeAt) return;
      taken = true;
      writeHeapSnapshot(file);
    },
  });
  process.stderr.write(
    `${name} seed ${seed} clients ${clients}: trace ${summary.traceHash}, exit ${summary.exitCode}\n`,
  );
  if (!taken) throw new Error(`the run ended before ${takeAt} of it was done`);
  process.stdout.write(`${heapTable(summarizeHeapSnapshot(file), top)}\n`);
  if (keep) process.stderr.write(`snapshot kept: ${file}\n`);
  else rmSync(file);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
