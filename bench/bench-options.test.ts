import { describe, expect, it } from 'vitest';
import { BenchOptionsError, parseBenchOptions } from './bench-options.ts';
import { benchLimits } from './limits.ts';

describe('parseBenchOptions', () => {
  it('defaults to every phase, closed model, the bounded defaults', () => {
    expect(parseBenchOptions([])).toEqual({
      seconds: benchLimits.secondsDefault,
      connections: benchLimits.connectionsDefault,
      groupConnections: benchLimits.groupConnectionsDefault,
      window: benchLimits.windowDefault,
      ratePerConn: null,
      loadProcesses: benchLimits.loadProcessesDefault,
      phases: ['raw-echo', 'raw-broadcast', 'chat-direct', 'chat-group'],
      nodes: 1,
      json: false,
      help: false,
    });
  });

  it('reads every flag, and phases in the fixed order', () => {
    const options = parseBenchOptions([
      '--seconds',
      '3',
      '--connections=200',
      '--group-connections',
      '150',
      '--window',
      '2',
      '--rate-per-conn',
      '12.5',
      '--load-processes',
      '2',
      '--phases',
      'chat-group,raw-echo',
      '--nodes',
      '3',
      '--json',
    ]);
    expect(options).toMatchObject({
      seconds: 3,
      connections: 200,
      groupConnections: 150,
      window: 2,
      ratePerConn: 12.5,
      loadProcesses: 2,
      phases: ['raw-echo', 'chat-group'],
      nodes: 3,
      json: true,
    });
  });

  it('reports every problem at once with a stable code', () => {
    let error: unknown;
    try {
      parseBenchOptions([
        '--seconds',
        '0',
        '--connections',
        '99999',
        '--phases',
        'raw-echo,nope',
        '--nodes',
        '0',
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BenchOptionsError);
    const { code, message } = error as BenchOptionsError;
    expect(code).toBe('CHATSIM_ERR_BENCH_OPTIONS');
    expect(message).toMatch(/--seconds must be an integer from 1 to 120, got "0"/);
    expect(message).toMatch(/--connections must be an integer from 1 to 8000/);
    expect(message).toMatch(/unknown: nope/);
    expect(message).toMatch(/--nodes must be an integer from 1 to 8/);
    expect(message).toMatch(/usage:/);
  });

  it('refuses unknown flags and stray arguments', () => {
    expect(() => parseBenchOptions(['--fast'])).toThrow(BenchOptionsError);
    expect(() => parseBenchOptions(['10'])).toThrow(BenchOptionsError);
    expect(() => parseBenchOptions(['--rate-per-conn', '-1'])).toThrow(/rate-per-conn/);
  });
});
