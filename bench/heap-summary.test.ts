// The heap summary reads a V8 heap snapshot without parsing it whole: a small hand-made snapshot in
// V8's format checks that plain containers (a Map's table, a typed array's buffer and its bytes) are
// charged to the object of a class that holds them, with the path from it, and that strings are
// grouped by kind, never by their contents.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heapTable, summarizeHeapSnapshot } from './heap-summary.ts';

const dir = mkdtempSync(join(tmpdir(), 'heap-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nodeTypes = [
  'hidden',
  'array',
  'string',
  'object',
  'code',
  'closure',
  'regexp',
  'number',
  'native',
  'synthetic',
];
const edgeTypes = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];

/** A snapshot of nodes [type, name, selfSize, edges: [edgeType, name, toNode][]]. */
function snapshot(nodes: [string, string, number, [string, string | number, number][]][]): string {
  const strings: string[] = [];
  const stringId = (text: string): number => {
    const at = strings.indexOf(text);
    return at >= 0 ? at : strings.push(text) - 1;
  };
  const nodeFields = ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'];
  const flatNodes: number[] = [];
  const flatEdges: number[] = [];
  nodes.forEach(([type, name, size, edges], index) => {
    flatNodes.push(nodeTypes.indexOf(type), stringId(name), index * 2 + 1, size, edges.length, 0, 0);
    for (const [edgeType, edgeName, to] of edges)
      flatEdges.push(
        edgeTypes.indexOf(edgeType),
        typeof edgeName === 'number' ? edgeName : stringId(edgeName),
        to * nodeFields.length,
      );
  });
  return JSON.stringify({
    snapshot: {
      meta: {
        node_fields: nodeFields,
        node_types: [nodeTypes, 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [edgeTypes, 'string_or_number', 'node'],
      },
      node_count: nodes.length,
      edge_count: flatEdges.length / 3,
    },
    nodes: flatNodes,
    edges: flatEdges,
    strings,
  });
}

describe('heap summary', () => {
  it('charges containers and typed arrays to the class that holds them, strings by kind', () => {
    const file = join(dir, 'small.heapsnapshot');
    writeFileSync(
      file,
      snapshot([
        /* 0 */ [
          'synthetic',
          '(GC roots)',
          0,
          [
            ['element', 1, 1],
            ['element', 2, 5],
            ['weak', 3, 9],
          ],
        ],
        /* 1 */ [
          'object',
          'VirtualClient',
          100,
          [
            ['property', 'convs', 2],
            ['property', 'user', 4],
          ],
        ],
        /* 2 */ ['object', 'Map', 40, [['internal', 'table', 3]]],
        /* 3 */ ['array', '', 200, []],
        /* 4 */ ['string', 'u123 (contents, never a name)', 30, []],
        /* 5 */ ['object', 'Column', 10, [['internal', 'data', 6]]],
        /* 6 */ ['object', 'Float64Array', 60, [['internal', 'buffer', 7]]],
        /* 7 */ ['object', 'ArrayBuffer', 50, [['internal', 'backing_store', 8]]],
        /* 8 */ ['native', 'system / JSArrayBufferData', 800, []],
        /* 9 */ ['object', 'Map', 7, []],
      ]),
    );
    const summary = summarizeHeapSnapshot(file);
    expect(summary.totalBytes).toBe(1297);
    const holders = Object.fromEntries(summary.holders.map((group) => [group.name, group.selfBytes]));
    expect(holders.Column).toBe(910);
    expect(holders['object:Column']).toBe(10);
    expect(holders['object:VirtualClient']).toBe(100);
    expect(holders.VirtualClient).toBe(270);
    // Only weakly held: charged to itself, not to the root that holds it weakly.
    expect(holders['object:Map']).toBe(7);
    const groups = Object.fromEntries(summary.groups.map((group) => [group.name, group.selfBytes]));
    expect(groups['native:system / JSArrayBufferData in Column.data.buffer.backing_store']).toBe(800);
    expect(groups['array: in VirtualClient.convs.table']).toBe(200);
    expect(groups['string in VirtualClient.user']).toBe(30);
    expect(heapTable(summary, 3)).not.toContain('u123');
    expect(heapTable(summary, 3).split('\n')[0]).toBe(
      "live heap 0.0 MiB (self sizes, typed arrays' bytes included)",
    );
  });
});
