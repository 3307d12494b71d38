// JUnit XML for CI systems: one testsuite per scenario, one testcase per (seed, property), a
// failure carrying the checker's details, witness and the command that reproduces it. A property the
// run could not judge (`unknown`) is an <error> ("could not judge"), never a pass and never dropped.

import type { RunSummary } from '../simulator/run-scenario.ts';

export type GateRun = {
  summary: RunSummary;
  repro: string;
  /** What this run left out and why (a live target that cannot carry out a fault): skipped test cases. */
  skipped?: readonly string[];
  /** Its testsuite when not its scenario's (the gate's small runs: `churn@150`, beside `churn`'s own seeds). */
  suite?: string;
};

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function junitXml(runs: readonly GateRun[]): string {
  const byScenario = new Map<string, GateRun[]>();
  for (const run of runs) {
    const suite = run.suite ?? run.summary.scenario;
    const list = byScenario.get(suite) ?? [];
    list.push(run);
    byScenario.set(suite, list);
  }
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const [scenario, list] of byScenario) {
    const cases: string[] = [];
    let suiteFailures = 0;
    let suiteSkipped = 0;
    let suiteErrors = 0;
    let time = 0;
    for (const { summary, repro, skipped } of list) {
      time += summary.wallMs / 1000;
      for (const what of skipped ?? []) {
        tests++;
        suiteSkipped++;
        cases.push(
          `    <testcase classname="chatsim.${escapeXml(scenario)}" name="${escapeXml(`seed ${summary.seed}: ${what.split(':')[0]}`)}">\n      <skipped message="${escapeXml(what)}"/>\n    </testcase>`,
        );
      }
      const judged = [
        ...summary.verdicts.map((v) => ({
          name: v.property,
          outcome: v.verdict,
          text: `${v.details}\nwitness: ${JSON.stringify(v.witness).slice(0, 4000)}`,
        })),
        ...summary.slo.map((s) => ({
          name: `slo:${s.name}`,
          outcome: s.pass ? ('pass' as const) : ('fail' as const),
          text: `${s.name} = ${s.actual}, limit ${s.limit}${s.detail === undefined ? '' : `\n${s.detail}`}`,
        })),
      ];
      for (const item of judged) {
        tests++;
        const name = `seed ${summary.seed}: ${item.name}`;
        const open = `    <testcase classname="chatsim.${escapeXml(scenario)}" name="${escapeXml(name)}"`;
        const body = escapeXml(`${item.text}\nreproduce: ${repro}`);
        if (item.outcome === 'pass') cases.push(`${open}/>`);
        else if (item.outcome === 'skipped') {
          suiteSkipped++;
          cases.push(
            `${open}>\n      <skipped message="${escapeXml(item.text.split('\n')[0] ?? '')}"/>\n    </testcase>`,
          );
        } else if (item.outcome === 'fail') {
          failures++;
          suiteFailures++;
          cases.push(
            `${open}>\n      <failure message="${escapeXml(item.name)} failed">${body}</failure>\n    </testcase>`,
          );
        } else {
          errors++;
          suiteErrors++;
          cases.push(
            `${open}>\n      <error message="could not judge ${escapeXml(item.name)}">${body}</error>\n    </testcase>`,
          );
        }
      }
    }
    suites.push(
      `  <testsuite name="${escapeXml(scenario)}" tests="${cases.length}" failures="${suiteFailures}" errors="${suiteErrors}" skipped="${suiteSkipped}" time="${time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="chatsim gate" tests="${tests}" failures="${failures}" errors="${errors}">\n${suites.join('\n')}\n</testsuites>\n`;
}
