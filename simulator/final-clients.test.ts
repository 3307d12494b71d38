import { describe, expect, it } from 'vitest';
import { decodeClients, encodeClients, type FinalClients } from './final-clients.ts';
import { HistoryBatchReader, HistoryBatchWriter } from './history-batch.ts';

describe("the final state's clients as they cross to the checker thread", () => {
  it('go by number where the history named them, by name where it did not, in client order', () => {
    // Clients 0 and 2 recorded a session (their names crossed with it); client 1 recorded nothing.
    const writer = new HistoryBatchWriter(16);
    writer.add({ k: 'session', at: 1, connectMs: 1, first: true, user: 'ann', device: 'ann-d1' }, 0);
    writer.add({ k: 'session', at: 1, connectMs: 1, first: true, user: 'cat', device: 'cat-d1' }, 2);
    const reader = new HistoryBatchReader();
    reader.read(structuredClone(writer.take().batch), () => {});
    const clients: FinalClients = {
      devices: Int32Array.from([0, 1, 2]),
      online: Int32Array.from([1, 2]),
      names: ['ann', 'ann-d1', 'bob', 'bob-d1', 'cat', 'cat-d1'],
    };
    const crossing = encodeClients(clients, (n, user, device) => writer.told(n, user, device));
    expect([...crossing.devices]).toEqual([0, -1, 2]);
    expect(crossing.deviceNames).toEqual(['bob', 'bob-d1']);
    expect([...crossing.online]).toEqual([-1, 2]);
    const { devices, online } = decodeClients(structuredClone(crossing), reader);
    expect(devices).toEqual([
      { user: 'ann', device: 'ann-d1' },
      { user: 'bob', device: 'bob-d1' },
      { user: 'cat', device: 'cat-d1' },
    ]);
    expect([...online].sort()).toEqual(['bob', 'cat']);
  });

  it('a number the history told with other names crosses by name', () => {
    const writer = new HistoryBatchWriter(16);
    writer.add({ k: 'session', at: 1, connectMs: 1, first: true, user: 'ann', device: 'ann-d1' }, 0);
    writer.take();
    const clients: FinalClients = {
      devices: Int32Array.from([0]),
      online: Int32Array.from([0]),
      names: ['zed', 'zed-d9'],
    };
    const crossing = encodeClients(clients, (n, user, device) => writer.told(n, user, device));
    const { devices, online } = decodeClients(crossing, {
      userOf: () => 'ann',
      deviceNameOf: () => 'ann-d1',
    });
    expect(devices).toEqual([{ user: 'zed', device: 'zed-d9' }]);
    expect([...online]).toEqual(['zed']);
  });
});
