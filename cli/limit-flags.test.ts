import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { defaultLimits, type NodeLimits } from '../reference-server/core/limits.ts';
import { addLimitFlags, flagOf, limitsFrom, parsePositiveInteger } from './limit-flags.ts';

describe('limit flags', () => {
  it('names each flag after its field, units included', () => {
    expect(flagOf('helloTimeoutMs')).toBe('--hello-timeout-ms');
    expect(flagOf('sendBufferBytesMax')).toBe('--send-buffer-bytes-max');
    expect(flagOf('userSendsPerSec')).toBe('--user-sends-per-sec');
    expect(flagOf('largeGroupThreshold')).toBe('--large-group-threshold');
  });

  it('offers every NodeLimits field and maps parsed flags back to limits', () => {
    const command = addLimitFlags(new Command('serve').exitOverride());
    const fields = Object.keys(defaultLimits) as (keyof NodeLimits)[];
    const argv = fields.flatMap((field, i) => [flagOf(field), String(i + 1)]);
    command.parse(argv, { from: 'user' });
    const limits = limitsFrom(command.opts());
    expect(Object.keys(limits).sort()).toEqual([...fields].sort());
    fields.forEach((field, i) => {
      expect(limits[field]).toBe(i + 1);
    });
  });

  it('leaves out the flags not given', () => {
    const command = addLimitFlags(new Command('serve').exitOverride());
    command.parse(['--heartbeat-ms', '250'], { from: 'user' });
    expect(limitsFrom(command.opts())).toEqual({ heartbeatMs: 250 });
  });

  it('accepts only positive integers', () => {
    expect(parsePositiveInteger('1')).toBe(1);
    expect(parsePositiveInteger('4194304')).toBe(4_194_304);
    for (const bad of ['0', '-1', '1.5', '1e3', 'abc', '', ' 5', '99999999999999999999'])
      expect(() => parsePositiveInteger(bad), bad).toThrow(/positive integer/);
  });
});
