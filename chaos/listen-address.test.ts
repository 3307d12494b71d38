// host:port read and printed as Go's net package does, errors worded as Go words them.

import { describe, expect, it } from 'vitest';
import { AddressError, formatAddress, parseHostPort, resolveTcp, splitHostPort } from './listen-address.ts';

describe('listen addresses', () => {
  it('splits host and port, brackets for IPv6, an empty host for every interface', () => {
    expect(splitHostPort('localhost:80')).toEqual({ host: 'localhost', port: '80' });
    expect(splitHostPort('[::1]:80')).toEqual({ host: '::1', port: '80' });
    expect(splitHostPort(':0')).toEqual({ host: '', port: '0' });
    expect(() => splitHostPort('local373')).toThrow(
      new AddressError('address local373: missing port in address'),
    );
    expect(() => splitHostPort('::1:80')).toThrow('too many colons');
  });

  it('resolves localhost to 127.0.0.1 and leaves IPs and the wildcard alone', async () => {
    expect(await resolveTcp('localhost:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(await resolveTcp('10.1.2.3:1')).toEqual({ host: '10.1.2.3', port: 1 });
    expect(await resolveTcp(':0')).toEqual({ host: '', port: 0 });
    await expect(resolveTcp('localhost:http')).rejects.toThrow('lookup tcp/http: unknown port');
    await expect(resolveTcp('no-such-host.invalid:1')).rejects.toThrow(
      'lookup no-such-host.invalid: no such host',
    );
  });

  it('prints addresses as Go does', () => {
    expect(formatAddress({ host: '127.0.0.1', port: 5 })).toBe('127.0.0.1:5');
    expect(formatAddress({ host: '::', port: 5 })).toBe('[::]:5');
    expect(formatAddress({ host: '', port: 0 })).toBe(':0');
    expect(parseHostPort(':8080')).toEqual({ host: 'localhost', port: 8080 });
  });
});
