// The embedded server's HTTP API, driven through toxiproxy-node-client as the harness drives it, and
// with plain fetch where the client hides what Toxiproxy answers (error texts, headers, raw bodies).

import { createServer } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTo, startUpstream, type Upstream } from '../test-support/tcp-fixture.ts';
import { startToxiproxyServer, type ToxiproxyServer, toxiproxyVersion } from './toxiproxy-server.ts';

let server: ToxiproxyServer;
let client: Toxiproxy;
let upstream: Upstream;

beforeEach(async () => {
  server = await startToxiproxyServer({ port: 0 });
  client = new Toxiproxy(server.url);
  upstream = await startUpstream();
});
afterEach(async () => {
  await server.close();
  await upstream.close();
});

async function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, { method, body, headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const errorBody = (error: string, status: number) => `${JSON.stringify({ error, status })}\n`;

describe('version and routing', () => {
  it('GET /version answers exactly as Toxiproxy writes it', async () => {
    expect(await client.getVersion()).toBe(`{"version": "${toxiproxyVersion}"}\n`);
    const { headers } = await raw('GET', '/version');
    expect(headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(headers.get('x-toxiproxy-request-id')).toMatch(/^[0-9a-f]+$/);
  });

  it('unknown paths get 404 text, known paths with a wrong method 405 with an empty body', async () => {
    expect(await raw('GET', '/nope')).toMatchObject({ status: 404, text: '404 page not found\n' });
    expect(await raw('DELETE', '/proxies')).toMatchObject({ status: 405, text: '' });
    expect(await raw('PUT', '/proxies/x/toxics/y')).toMatchObject({ status: 405, text: '' });
  });

  it('refuses browsers', async () => {
    const answer = await raw('GET', '/proxies', undefined, { 'User-Agent': 'Mozilla/5.0' });
    expect(answer).toMatchObject({ status: 403, text: 'User agent not allowed\n' });
  });
});

describe('proxies', () => {
  it('creates a proxy on localhost:0, rewrites listen to the bound address, lists it keyed by name', async () => {
    const proxy = await client.createProxy({ name: 'db', listen: 'localhost:0', upstream: upstream.address });
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.enabled).toBe(true);
    const all = await client.getAll();
    expect(Object.keys(all)).toEqual(['db']);
    const shown = await raw('GET', '/proxies/db');
    expect(JSON.parse(shown.text)).toEqual({
      name: 'db',
      listen: proxy.listen,
      upstream: upstream.address,
      enabled: true,
      Logger: {},
      toxics: [],
    });
    expect(shown.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse((await raw('GET', '/proxies')).text)).toEqual({ db: JSON.parse(shown.text) });
  });

  it('answers create errors with Toxiproxy codes and texts', async () => {
    await client.createProxy({ name: 'a', listen: 'localhost:0', upstream: upstream.address });
    await expect(
      client.createProxy({ name: 'a', listen: 'localhost:0', upstream: upstream.address }),
    ).rejects.toThrow('status code 409');
    expect(await raw('POST', '/proxies', '')).toMatchObject({
      status: 400,
      text: errorBody('bad request body: EOF', 400),
    });
    expect(await raw('POST', '/proxies', JSON.stringify({ upstream: 'x:1' }))).toMatchObject({
      status: 400,
      text: errorBody('missing required field: name', 400),
    });
    expect(await raw('POST', '/proxies', JSON.stringify({ name: 'b' }))).toMatchObject({
      status: 400,
      text: errorBody('missing required field: upstream', 400),
    });
    const dup = await raw('POST', '/proxies', JSON.stringify({ name: 'a', upstream: 'x:1' }));
    expect(dup).toMatchObject({ status: 409, text: errorBody('proxy already exists', 409) });
    expect(dup.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(dup.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a taken port is a 500 with Go bind error, and the proxy is not created', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const answer = await raw(
        'POST',
        '/proxies',
        JSON.stringify({ name: 'c', listen: `127.0.0.1:${port}`, upstream: 'x:1' }),
      );
      expect(answer).toMatchObject({
        status: 500,
        text: errorBody(`listen tcp 127.0.0.1:${port}: bind: address already in use`, 500),
      });
      await expect(client.get('c')).rejects.toThrow('status code 404');
    } finally {
      taken.close();
    }
  });

  it('a disabled proxy keeps listen as sent and never dials; the upstream is not checked', async () => {
    const answer = await raw(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'd', listen: 'localhost:3310', upstream: 'nowhere:12345', enabled: false }),
    );
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.text)).toMatchObject({
      listen: 'localhost:3310',
      upstream: 'nowhere:12345',
      enabled: false,
    });
  });

  it('disabling closes open connections and refuses new ones; enabling rebinds the same port', async () => {
    const proxy = await client.createProxy({ name: 'e', listen: 'localhost:0', upstream: upstream.address });
    const open = await connectTo(proxy.listen);
    open.socket.write('ping');
    const far = await upstream.connection(0);
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    expect(await open.ended).toBe('eof');
    expect(await far.ended).toBe('eof');
    await expect(connectTo(proxy.listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const enabled = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.listen).toBe(proxy.listen);
    const again = await connectTo(proxy.listen);
    again.socket.end('x');
    expect((await upstream.connection(1)).socket.remoteAddress).toBe('127.0.0.1');
  });

  it('an update decodes over the current values; the same address in another spelling does not restart', async () => {
    const proxy = await client.createProxy({ name: 'f', listen: 'localhost:0', upstream: upstream.address });
    const open = await connectTo(proxy.listen);
    await upstream.connection(0);
    const port = proxy.listen.split(':')[1];
    const same = await raw('PATCH', '/proxies/f', JSON.stringify({ listen: `localhost:${port}` }));
    expect(JSON.parse(same.text)).toMatchObject({
      listen: proxy.listen,
      upstream: upstream.address,
      enabled: true,
    });
    open.socket.write('still open');
    await expect.poll(() => upstream.accepted[0]!.bytes().toString()).toBe('still open');
    const moved = await raw('PATCH', '/proxies/f', JSON.stringify({ upstream: '127.0.0.1:1' }));
    expect(JSON.parse(moved.text)).toMatchObject({ upstream: '127.0.0.1:1', enabled: true });
    expect(await open.ended).toBe('eof');
    expect(await raw('PATCH', '/proxies/nope', '{}')).toMatchObject({
      status: 404,
      text: errorBody('proxy not found', 404),
    });
    expect(await raw('PATCH', '/proxies/f', 'x')).toMatchObject({ status: 400 });
  });

  it('deletes with 204, then 404', async () => {
    const proxy = await client.createProxy({ name: 'g', listen: 'localhost:0', upstream: upstream.address });
    expect(await raw('DELETE', '/proxies/g')).toMatchObject({ status: 204, text: '' });
    await expect(proxy.remove()).rejects.toThrow('status code 404');
    expect(await raw('GET', '/proxies/g')).toMatchObject({
      status: 404,
      text: errorBody('proxy not found', 404),
    });
  });

  it('a client whose upstream refuses reads EOF', async () => {
    const proxy = await client.createProxy({ name: 'h', listen: 'localhost:0', upstream: '127.0.0.1:1' });
    const refused = await connectTo(proxy.listen);
    expect(await refused.ended).toBe('eof');
  });
});

describe('populate', () => {
  it('creates, keeps unchanged proxies as they are, replaces changed ones', async () => {
    const first = await client.populate([
      { name: 'p1', listen: 'localhost:0', upstream: upstream.address },
      { name: 'p2', listen: 'localhost:0', upstream: upstream.address, enabled: false },
    ]);
    expect(Object.keys(first).sort()).toEqual(['p1', 'p2']);
    const p1 = await client.get('p1');
    await p1.addToxic({
      name: 'slow',
      type: 'latency',
      stream: 'upstream',
      toxicity: 1,
      attributes: { latency: 1, jitter: 0 },
    });
    const again = await raw(
      'POST',
      '/populate',
      JSON.stringify([
        { name: 'p1', listen: p1.listen, upstream: upstream.address, enabled: false },
        { name: 'p2', listen: 'localhost:0', upstream: '127.0.0.1:2' },
      ]),
    );
    expect(again.status).toBe(201);
    const [kept, replaced] = JSON.parse(again.text).proxies;
    expect(kept).toMatchObject({ name: 'p1', enabled: true, toxics: [{ name: 'slow' }] });
    expect(replaced).toMatchObject({ name: 'p2', upstream: '127.0.0.1:2', enabled: true, toxics: [] });
  });

  it('validates every entry first, stops at the first failure with what it created so far', async () => {
    expect(
      await raw('POST', '/populate', JSON.stringify([{ name: 'ok', upstream: 'x:1' }, { upstream: 'x:1' }])),
    ).toMatchObject({
      status: 400,
      text: JSON.stringify({ error: 'missing required field: name at proxy 2', status: 400, proxies: null }),
    });
    expect(Object.keys(await client.getAll())).toEqual([]);
    const failed = await raw(
      'POST',
      '/populate',
      JSON.stringify([
        { name: 'ok', listen: 'localhost:0', upstream: 'x:1' },
        { name: 'bad', listen: 'local373', upstream: 'x:1' },
        { name: 'never', listen: 'localhost:0', upstream: 'x:1' },
      ]),
    );
    expect(failed.status).toBe(500);
    const body = JSON.parse(failed.text);
    expect(body.error).toBe('listen tcp: address local373: missing port in address');
    expect(body.proxies.map((p: { name: string }) => p.name)).toEqual(['ok']);
    expect(Object.keys(await client.getAll())).toEqual(['ok']);
    expect(await raw('POST', '/populate', '[]')).toMatchObject({ status: 201, text: '{"proxies":null}' });
  });
});

describe('toxics', () => {
  it('creates with defaults and every attribute zero-valued; lists upstream first', async () => {
    const proxy = await client.createProxy({ name: 't', listen: 'localhost:0', upstream: upstream.address });
    const made = await raw(
      'POST',
      '/proxies/t/toxics',
      JSON.stringify({ type: 'latency', attributes: { latency: 5 } }),
    );
    expect(made.status).toBe(200);
    expect(made.text).toBe(
      '{"attributes":{"latency":5,"jitter":0},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}',
    );
    const up = await proxy.addToxic({
      name: 'cut',
      type: 'limit_data',
      stream: 'upstream',
      toxicity: 0.5,
      attributes: { bytes: 10 },
    });
    expect(up.toJson()).toEqual({
      name: 'cut',
      type: 'limit_data',
      stream: 'upstream',
      toxicity: 0.5,
      attributes: { bytes: 10 },
    });
    const listed = JSON.parse((await raw('GET', '/proxies/t/toxics')).text);
    expect(listed.map((t: { name: string }) => t.name)).toEqual(['cut', 'latency_downstream']);
    for (const [type, attributes] of Object.entries({
      bandwidth: { rate: 0 },
      slow_close: { delay: 0 },
      timeout: { timeout: 0 },
      reset_peer: { timeout: 0 },
      slicer: { average_size: 0, size_variation: 0, delay: 0 },
      noop: {},
    })) {
      const body =
        type === 'slicer'
          ? { type, stream: 'upstream', attributes: { average_size: 1 } }
          : { type, stream: 'upstream' };
      const answer = JSON.parse((await raw('POST', '/proxies/t/toxics', JSON.stringify(body))).text);
      expect(answer).toEqual({
        attributes: type === 'slicer' ? { ...attributes, average_size: 1 } : attributes,
        name: `${type}_upstream`,
        type,
        stream: 'upstream',
        toxicity: 1,
      });
    }
  });

  it('answers toxic errors in Toxiproxy order with its texts', async () => {
    await client.createProxy({ name: 'u', listen: 'localhost:0', upstream: upstream.address });
    const post = (body: unknown) =>
      raw('POST', '/proxies/u/toxics', typeof body === 'string' ? body : JSON.stringify(body));
    expect(await raw('POST', '/proxies/none/toxics', '{}')).toMatchObject({
      status: 404,
      text: errorBody('proxy not found', 404),
    });
    expect(await post('')).toMatchObject({ status: 400, text: errorBody('bad request body: EOF', 400) });
    expect(await post({ type: 'latency', stream: '' })).toMatchObject({
      status: 400,
      text: errorBody('stream was invalid, can be either upstream or downstream', 400),
    });
    expect(await post({ type: 'down' })).toMatchObject({
      status: 400,
      text: errorBody('invalid toxic type', 400),
    });
    expect((await post({ type: 'latency', stream: 'UpStream' })).status).toBe(200);
    expect(await post({ type: 'timeout', name: 'latency_UpStream' })).toMatchObject({
      status: 409,
      text: errorBody('toxic already exists', 409),
    });
    const wrongType = await post({ type: 'latency', name: 'l2', attributes: { latency: 'slow' } });
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.text).error).toMatch(
      /^bad request body: json: cannot unmarshal string into Go struct field LatencyToxic\.latency of type int64/,
    );
    expect((await post({ type: 'latency', name: 'l3', attributes: { latency: 1.5 } })).status).toBe(400);
    expect((await post({ type: 'bandwidth', attributes: { rate: -1 } })).status).toBe(400);
    expect((await post({ type: 'slicer', attributes: { average_size: 0 } })).status).toBe(400);
    expect((await post({ type: 'slicer', attributes: { average_size: 2, size_variation: 3 } })).status).toBe(
      400,
    );
    expect(JSON.parse((await post({ type: 'noop', name: 'odd', toxicity: 2.5 })).text).toxicity).toBe(2.5);
    expect(await raw('GET', '/proxies/u/toxics/none')).toMatchObject({
      status: 404,
      text: errorBody('toxic not found', 404),
    });
    expect(await raw('DELETE', '/proxies/u/toxics/none')).toMatchObject({
      status: 404,
      text: errorBody('toxic not found', 404),
    });
  });

  it('updates decode over the live toxic; deletes answer 204', async () => {
    const proxy = await client.createProxy({ name: 'v', listen: 'localhost:0', upstream: upstream.address });
    const toxic = await proxy.addToxic({
      name: 'lag',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.25,
      attributes: { latency: 100, jitter: 10 },
    });
    const patched = await raw(
      'PATCH',
      '/proxies/v/toxics/lag',
      JSON.stringify({ attributes: { latency: 50 }, name: 'other', stream: 'upstream' }),
    );
    expect(JSON.parse(patched.text)).toEqual({
      attributes: { latency: 50, jitter: 10 },
      name: 'lag',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.25,
    });
    const updated = await toxic.update({
      ...toxic.toJson(),
      toxicity: 1,
      attributes: { latency: 7, jitter: 0 },
    });
    expect(updated.toJson()).toMatchObject({ toxicity: 1, attributes: { latency: 7, jitter: 0 } });
    expect((await proxy.getToxic('lag')).attributes).toEqual({ latency: 7, jitter: 0 });
    await toxic.remove();
    await expect(proxy.getToxic('lag')).rejects.toThrow('status code 404');
  });

  it('toxics survive disable and enable, and can be added while disabled', async () => {
    const proxy = await client.createProxy({ name: 'w', listen: 'localhost:0', upstream: upstream.address });
    await proxy.addToxic({
      name: 'a',
      type: 'slow_close',
      stream: 'upstream',
      toxicity: 1,
      attributes: { delay: 0 },
    });
    const off = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    await off.addToxic({
      name: 'b',
      type: 'slow_close',
      stream: 'upstream',
      toxicity: 1,
      attributes: { delay: 0 },
    });
    await off.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    const shown = JSON.parse((await raw('GET', '/proxies/w')).text);
    expect(shown.toxics.map((t: { name: string }) => t.name)).toEqual(['a', 'b']);
  });
});

describe('change log', () => {
  it('tells one line per change that succeeded, none for reads or failures', async () => {
    const lines: string[] = [];
    const logged = await startToxiproxyServer({ port: 0, log: (line) => lines.push(line) });
    try {
      const proxy = await new Toxiproxy(logged.url).createProxy({
        name: 'l',
        listen: 'localhost:0',
        upstream: 'x:1',
      });
      await proxy.addToxic({
        name: 'lag',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 5, jitter: 0 },
      });
      await fetch(`${logged.url}/proxies`);
      await fetch(`${logged.url}/proxies/none`, { method: 'DELETE' });
      await proxy.remove();
      expect(lines.map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual([
        'POST /proxies 201',
        'POST /proxies/l/toxics 200',
        'DELETE /proxies/l 204',
      ]);
      expect(lines[1]).toContain('"name":"lag"');
    } finally {
      await logged.close();
    }
  });
});

describe('reset', () => {
  it('re-enables every proxy and removes every toxic', async () => {
    const proxy = await client.createProxy({ name: 'r', listen: 'localhost:0', upstream: upstream.address });
    await proxy.addToxic({
      name: 'x',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 10, jitter: 0 },
    });
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(await raw('POST', '/reset')).toMatchObject({ status: 204, text: '' });
    await client.reset();
    const after = await client.get('r');
    expect(after.enabled).toBe(true);
    expect(after.listen).toBe(proxy.listen);
    expect(JSON.parse((await raw('GET', '/proxies/r/toxics')).text)).toEqual([]);
  });
});
