import { describe, expect, it } from 'vitest';
import { fleetFigures, nodeFigures, parseServerMetrics, type ServerSample } from './server-sampler.ts';

const body = (cpu: number, rss: number, conns: number) =>
  `# HELP chatsim_process_cpu_seconds_total x\nchatsim_process_cpu_seconds_total ${cpu}\nchatsim_process_resident_memory_bytes ${rss}\nchatsim_connections ${conns}\n`;

describe('server sampler', () => {
  it('reads CPU seconds, RSS and connections; null when any is missing', () => {
    expect(parseServerMetrics(body(1.5, 1000, 3), 7)).toEqual({
      atMs: 7,
      cpuSeconds: 1.5,
      rssBytes: 1000,
      connections: 3,
    });
    expect(parseServerMetrics('chatsim_connections 3\n', 0)).toBeNull();
  });

  it('CPU share over the connected window, memory per connection from the idle baseline', () => {
    const samples: ServerSample[] = [
      { atMs: 0, cpuSeconds: 1, rssBytes: 50_000_000, connections: 0 },
      { atMs: 1000, cpuSeconds: 1.2, rssBytes: 60_000_000, connections: 95 },
      { atMs: 3000, cpuSeconds: 2.2, rssBytes: 70_000_000, connections: 100 },
      { atMs: 4000, cpuSeconds: 2.3, rssBytes: 70_000_000, connections: 0 },
    ];
    const f = nodeFigures(samples);
    expect(f.cpuShare).toBeCloseTo(0.5);
    expect(f.bytesPerConnection).toBe(200_000);
    expect(f.connectionsPeak).toBe(100);
  });

  it('a fleet is measurable only when every node was', () => {
    const a = { cpuShare: 0.5, bytesPerConnection: 100, connectionsPeak: 10 };
    const b = { cpuShare: 0.3, bytesPerConnection: 300, connectionsPeak: 30 };
    expect(fleetFigures([a, b])).toEqual({ cpuShare: 0.4, bytesPerConnection: 250, connectionsPeak: 40 });
    expect(
      fleetFigures([a, { cpuShare: null, bytesPerConnection: null, connectionsPeak: null }]).cpuShare,
    ).toBeNull();
  });
});
