// `chatsim gate --live` end to end: every standard scenario, shortened, passes live against the
// reference server (nodes the driver owns) and against the minimal second server (a --server-cmd that
// shares no code with the reference server); JUnit XML names every run and every fault it had to skip.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/cli-run.ts';
import { minimalServerCommand } from '../test-support/minimal-server-start.ts';
import { gateScenarios } from './gate.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-live-gate-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function gateLive(name: string, target: string[]) {
  const junit = join(dir, name, 'junit.xml');
  // Fewer clients than the gate's default and several runs at once: the test proves the gate and both
  // servers, not their capacity, and most of a live run is waiting on wall-clock phases.
  const { code, out, err } = await runCli([
    'gate',
    '--live',
    '--junit',
    junit,
    '--clients',
    '80',
    '--parallel',
    '3',
    ...target,
  ]);
  return { code, out: out.join('\n'), err: err.join('\n'), junit: await readFile(junit, 'utf8') };
}

/** The failures and could-not-judge errors a JUnit file names, with their witnesses: what a red run needs to be explained. */
function failuresOf(junit: string): string {
  const failures = junit.matchAll(
    /<testcase classname="([^"]*)" name="([^"]*)">\s*<(?:failure|error)[^>]*>([\s\S]*?)<\/(?:failure|error)>/g,
  );
  const lines = [...failures].map(([, scenario, name, text]) => `${scenario} ${name}: ${text}`);
  return lines.join('\n') || 'no <failure> or <error> in the JUnit XML';
}

describe.concurrent('chatsim gate --live', () => {
  it('passes every standard scenario against the reference server', async () => {
    const { code, out, junit } = await gateLive('reference', ['--nodes', '1']);
    expect(out, failuresOf(junit)).toContain(`${gateScenarios.length} passed, 0 failed`);
    expect(code).toBe(0);
    for (const scenario of gateScenarios) expect(junit).toContain(`<testsuite name="${scenario}"`);
    // What the target cannot do is skipped by name, never silently.
    expect(out).toMatch(/SKIP {2}store-outage {5}fault store-outage@\d+ms: store-outage has no live meaning/);
    expect(junit).toContain('<skipped message="store-outage@');
    // A fault on a node the target lacks is dropped by name, never carried out on node 0.
    expect(out).toMatch(
      /SKIP {2}node-down {8}fault node-crash@\d+ms: it names node 1 and this target has 1 node/,
    );
    expect(junit).not.toContain('<failure');
  }, 600_000);

  it('passes the standard scenarios against the minimal server, started with --server-cmd', async () => {
    const secret = 'live-gate-minimal-secret-0123456789abcdef';
    // Every standard scenario, churn included: the minimal server tells a new member of cursors below
    // its join, and a receipt to a member is within protocol.md (authorization judges it so).
    const { code, out, junit } = await gateLive('minimal', [
      '--server-cmd',
      `${await minimalServerCommand()} --port {port} --data-dir {dataDir}`,
      '--jwt-secret',
      secret,
    ]);
    expect(out, failuresOf(junit)).toContain(`${gateScenarios.length} passed, 0 failed`);
    expect(code).toBe(0);
    for (const scenario of gateScenarios) expect(junit).toContain(`<testsuite name="${scenario}"`);
  }, 600_000);
});
