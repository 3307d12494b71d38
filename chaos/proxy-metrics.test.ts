// With proxy metrics on, GET /metrics counts the bytes each proxy moved, per direction, under
// Toxiproxy's metric names and labels; with them off, /metrics is a 404 as in Toxiproxy.

import { Toxiproxy } from 'toxiproxy-node-client';
import { describe, expect, it } from 'vitest';
import { arrival } from '../test-support/proxy-connection.ts';
import { connectTo, startUpstream } from '../test-support/tcp-fixture.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

describe('proxy metrics', () => {
  it('counts received and sent bytes per proxy and direction', async () => {
    const server = await startToxiproxyServer({ port: 0, proxyMetrics: true });
    const upstream = await startUpstream({ echo: true });
    try {
      const proxy = await new Toxiproxy(server.url).createProxy({
        name: 'm',
        listen: 'localhost:0',
        upstream: upstream.address,
      });
      const client = await connectTo(proxy.listen);
      client.socket.write('0123456789');
      await arrival(client, 10);
      client.socket.destroy();
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      const labels = `listener="${proxy.listen}",proxy="m",upstream="${upstream.address}"`;
      for (const name of ['received', 'sent'])
        for (const direction of ['upstream', 'downstream'])
          expect(text).toContain(
            `toxiproxy_proxy_${name}_bytes_total{${labels.replace('listener', `direction="${direction}",listener`)}} 10`,
          );
    } finally {
      await server.close();
      await upstream.close();
    }
  });

  it('without proxy metrics, /metrics is not a route', async () => {
    const server = await startToxiproxyServer({ port: 0 });
    try {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('404 page not found\n');
    } finally {
      await server.close();
    }
  });
});
