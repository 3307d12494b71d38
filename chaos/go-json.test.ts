// JSON read and written as Toxiproxy's Go server does where a client can tell the difference.

import { describe, expect, it } from 'vitest';
import { asStruct, decodeField, GoJsonError, goStringify, parseBody } from './go-json.ts';

describe('go-json', () => {
  it('an empty body is EOF; bad JSON is a decode error', () => {
    expect(() => parseBody('  ')).toThrow(new GoJsonError('EOF'));
    expect(() => parseBody('{')).toThrow(GoJsonError);
  });

  it('matches keys exactly first, then case-insensitively; null and absent keep the value', () => {
    expect(decodeField({ Name: 'a' }, 'name', 'string', 'Proxy')).toBe('a');
    expect(decodeField({ NAME: 'b', name: 'c' }, 'name', 'string', 'Proxy')).toBe('c');
    expect(decodeField({ name: null }, 'name', 'string', 'Proxy')).toBeUndefined();
    expect(decodeField({}, 'enabled', 'bool', 'Proxy')).toBeUndefined();
  });

  it('words type errors like encoding/json', () => {
    expect(() => decodeField({ latency: 'x' }, 'latency', 'int64', 'LatencyToxic')).toThrow(
      'json: cannot unmarshal string into Go struct field LatencyToxic.latency of type int64',
    );
    expect(() => decodeField({ latency: 1.5 }, 'latency', 'int64', 'LatencyToxic')).toThrow(
      'json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.latency of type int64',
    );
    expect(() => decodeField({ enabled: 1 }, 'enabled', 'bool', 'Proxy')).toThrow('cannot unmarshal number');
    expect(decodeField({ toxicity: 0.25 }, 'toxicity', 'float32', 'ToxicWrapper')).toBe(0.25);
    expect(() => asStruct([1], 'toxiproxy.Proxy')).toThrow(
      'json: cannot unmarshal array into Go value of type toxiproxy.Proxy',
    );
    expect(asStruct(null, 'toxiproxy.Proxy')).toEqual({});
  });

  it('escapes <, > and & as Go does', () => {
    expect(goStringify({ error: 'a<b>&c' })).toBe('{"error":"a\\u003cb\\u003e\\u0026c"}');
    expect(JSON.parse(goStringify({ error: 'a<b>&c' }))).toEqual({ error: 'a<b>&c' });
  });
});
