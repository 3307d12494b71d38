import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from './report-table.ts';

const entry = fileURLToPath(new URL('./server-bench.ts', import.meta.url));

type Outcome = { code: number | null; stdout: string; stderr: string };

function bench(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<Outcome>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench:server', () => {
  it('prints a JSON report of the phases it was asked for', async () => {
    const { code, stdout } = await bench([
      '--seconds',
      '1',
      '--connections',
      '2',
      '--phases',
      'raw-echo',
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as BenchReport;
    expect(Object.keys(report.phases)).toEqual(['raw-echo']);
    expect(report.phases['raw-echo']?.completed).toBeGreaterThan(0);
    expect(report.ratios).toEqual([]);
    expect(report.machine.cores).toBeGreaterThan(0);
  });

  it('exits 2 with the usage on a bad flag', async () => {
    const { code, stderr } = await bench(['--connections', 'lots']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/CHATSIM_ERR_BENCH_OPTIONS: --connections must be an integer/);
  });

  it('stops its children and exits 130 on SIGINT', async () => {
    let signalled = false;
    const { code, stderr } = await bench(
      ['--seconds', '60', '--connections', '10', '--phases', 'raw-echo'],
      (text, child) => {
        if (!signalled && text.includes('bench: raw-echo')) {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    );
    expect(stderr).toContain('bench: SIGINT, stopping children');
    expect(code).toBe(130);
  });
});
