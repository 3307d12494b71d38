// The API handlers without HTTP: changes to the proxy collection are serialized, so racing requests
// get the answers Toxiproxy's locks give (one 201, one 409), and errors carry Toxiproxy's status.

import { afterEach, describe, expect, it } from 'vitest';
import { ToxiproxyApi } from './toxiproxy-api.ts';

const api = new ToxiproxyApi(Math.random, 'test');
afterEach(() => {
  api.stopAll();
  api.proxies.clear();
});

const body = (value: unknown) => JSON.stringify(value);

describe('ToxiproxyApi', () => {
  it('two creates of one name racing: one 201, one 409', async () => {
    const create = () =>
      api.answer(() => api.createProxy(body({ name: 'x', listen: 'localhost:0', upstream: 'y:1' })));
    const statuses = (await Promise.all([create(), create()])).map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 409]);
  });

  it('two toxics of one name racing: one 200, one 409', async () => {
    await api.answer(() => api.createProxy(body({ name: 'p', listen: 'localhost:0', upstream: 'y:1' })));
    const add = (stream: string) =>
      api.answer(() =>
        api.createToxic('p', body({ name: 't', type: 'latency', stream, attributes: { latency: 1 } })),
      );
    const statuses = (await Promise.all([add('upstream'), add('downstream')]))
      .map((answer) => answer.status)
      .sort();
    expect(statuses).toEqual([200, 409]);
  });

  it('answers unknown proxies and toxics with 404 and their texts', async () => {
    expect(await api.answer(async () => api.getProxy('none'))).toEqual({
      status: 404,
      error: 'proxy not found',
    });
    await api.answer(() => api.createProxy(body({ name: 'q', upstream: 'y:1', enabled: false })));
    expect(await api.answer(async () => api.getToxic('q', 'none'))).toEqual({
      status: 404,
      error: 'toxic not found',
    });
    expect(await api.answer(() => api.updateToxic('q', 'none', '{}'))).toEqual({
      status: 404,
      error: 'toxic not found',
    });
  });

  it('reset stops at the first proxy that cannot start, with a 500', async () => {
    await api.answer(() =>
      api.createProxy(body({ name: 'bad', listen: 'nohost', upstream: 'y:1', enabled: false })),
    );
    const answer = await api.answer(() => api.reset());
    expect(answer).toEqual({ status: 500, error: 'listen tcp: address nohost: missing port in address' });
  });
});
