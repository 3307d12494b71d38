// One TCP proxy on its own: binds and reports the bound address, dials upstream per client, closes
// every connection and refuses new ones when stopped, rebinds the same port when started again.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTo, startUpstream, type Upstream } from '../test-support/tcp-fixture.ts';
import { ProxyStartError, TcpProxy } from './proxy.ts';

let upstream: Upstream;
const proxies: TcpProxy[] = [];
beforeEach(async () => {
  upstream = await startUpstream({ echo: true });
});
afterEach(async () => {
  for (const proxy of proxies.splice(0)) proxy.stop();
  await upstream.close();
});

function proxyTo(target: string, listen = 'localhost:0'): TcpProxy {
  const proxy = new TcpProxy('p', listen, target, Math.random);
  proxies.push(proxy);
  return proxy;
}

describe('TcpProxy', () => {
  it('binds, rewrites listen to the bound address, and carries bytes both ways', async () => {
    const proxy = proxyTo(upstream.address);
    await proxy.start();
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.json()).toMatchObject({ name: 'p', enabled: true, Logger: {}, toxics: [] });
    const client = await connectTo(proxy.listen);
    client.socket.write('echo');
    await expect.poll(() => client.bytes().toString()).toBe('echo');
    client.socket.destroy();
  });

  it('stop closes open connections and refuses new ones; start rebinds the same port', async () => {
    const proxy = proxyTo(upstream.address);
    await proxy.start();
    const client = await connectTo(proxy.listen);
    const far = await upstream.connection(0);
    proxy.stop();
    expect(await client.ended).toBe('eof');
    expect(await far.ended).toBe('eof');
    await expect(connectTo(proxy.listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const port = proxy.listen;
    await proxy.start();
    expect(proxy.listen).toBe(port);
    (await connectTo(proxy.listen)).socket.destroy();
  });

  it('a bind failure is a ProxyStartError worded like Go', async () => {
    const first = proxyTo(upstream.address);
    await first.start();
    const second = proxyTo(upstream.address, first.listen);
    await expect(second.start()).rejects.toThrow(
      new ProxyStartError(`listen tcp ${first.listen}: bind: address already in use`),
    );
    expect(second.enabled).toBe(false);
    await expect(proxyTo(upstream.address, 'nohost').start()).rejects.toThrow(
      'listen tcp: address nohost: missing port in address',
    );
  });

  it('a wildcard listen binds every interface and shows as Go shows it', async () => {
    const proxy = proxyTo(upstream.address, '0.0.0.0:0');
    await proxy.start();
    expect(proxy.listen).toMatch(/^(\[::\]|0\.0\.0\.0):\d+$/);
    const port = proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1);
    (await connectTo(`127.0.0.1:${port}`)).socket.destroy();
  });

  it('a client whose upstream cannot be reached reads EOF', async () => {
    const proxy = proxyTo('127.0.0.1:1');
    await proxy.start();
    const client = await connectTo(proxy.listen);
    expect(await client.ended).toBe('eof');
  });
});
