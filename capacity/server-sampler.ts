// Samples each server's own /metrics (Prometheus text) about once a second while a step runs: process
// CPU seconds, resident memory and open connections. The reference server exposes them (prom-client
// default metrics under `chatsim_`, `chatsim_connections`); a server that does not gets `null`
// figures in the curve, said as "not measurable", never a guess.

export type ServerSample = { atMs: number; cpuSeconds: number; rssBytes: number; connections: number };

export type ServerFigures = {
  /** Mean share of one core per node while connections were at least 90% of their peak. */
  cpuShare: number | null;
  /** (RSS at peak connections - RSS before clients connected) / peak connections, summed over nodes. */
  bytesPerConnection: number | null;
  connectionsPeak: number | null;
};

const metricNames = {
  cpuSeconds: /^(?:chatsim_)?process_cpu_seconds_total(?:\{[^}]*\})?\s+([0-9.eE+-]+)/m,
  rssBytes: /^(?:chatsim_)?process_resident_memory_bytes(?:\{[^}]*\})?\s+([0-9.eE+-]+)/m,
  connections: /^chatsim_connections(?:\{[^}]*\})?\s+([0-9.eE+-]+)/m,
};

/** The three figures from one /metrics body; null when the server does not expose all of them. */
export function parseServerMetrics(text: string, atMs: number): ServerSample | null {
  const read = (re: RegExp) => {
    const match = re.exec(text);
    return match ? Number(match[1]) : Number.NaN;
  };
  const sample = {
    atMs,
    cpuSeconds: read(metricNames.cpuSeconds),
    rssBytes: read(metricNames.rssBytes),
    connections: read(metricNames.connections),
  };
  return Object.values(sample).every(Number.isFinite) ? sample : null;
}

/** Figures of one node from its samples in time order. */
export function nodeFigures(samples: readonly ServerSample[]): ServerFigures {
  const none = { cpuShare: null, bytesPerConnection: null, connectionsPeak: null };
  if (samples.length < 2) return none;
  const peak = Math.max(...samples.map((s) => s.connections));
  if (peak === 0) return { ...none, connectionsPeak: 0 };
  const busy = samples.filter((s) => s.connections >= 0.9 * peak);
  const first = busy[0]!;
  const last = busy.at(-1)!;
  const cpuShare =
    last.atMs > first.atMs ? (last.cpuSeconds - first.cpuSeconds) / ((last.atMs - first.atMs) / 1000) : null;
  const baseline = samples[0]!;
  const atPeak = samples.find((s) => s.connections === peak)!;
  const bytesPerConnection =
    baseline.connections < 0.1 * peak
      ? (atPeak.rssBytes - baseline.rssBytes) / (peak - baseline.connections)
      : null;
  return { cpuShare, bytesPerConnection, connectionsPeak: peak };
}

/** Sums what the nodes of a fleet measured (CPU as the mean per node, memory per connection fleet-wide). */
export function fleetFigures(perNode: readonly ServerFigures[]): ServerFigures {
  const known = perNode.filter((f) => f.connectionsPeak !== null && f.connectionsPeak > 0);
  if (known.length === 0 || known.length < perNode.length)
    return { cpuShare: null, bytesPerConnection: null, connectionsPeak: perNode[0]?.connectionsPeak ?? null };
  const cpu = known.map((f) => f.cpuShare);
  const bytes = known.map((f) => (f.bytesPerConnection ?? Number.NaN) * f.connectionsPeak!);
  const connections = known.reduce((a, f) => a + f.connectionsPeak!, 0);
  const totalBytes = bytes.reduce((a, b) => a + b, 0);
  return {
    cpuShare: cpu.every((c) => c !== null) ? (cpu as number[]).reduce((a, b) => a + b, 0) / cpu.length : null,
    bytesPerConnection: Number.isFinite(totalBytes) ? totalBytes / connections : null,
    connectionsPeak: connections,
  };
}

/** Polls every url's /metrics until stopped; `urls` is read each time (a fleet has urls once started). */
export class ServerSampler {
  private readonly samples = new Map<string, ServerSample[]>();
  private timer: NodeJS.Timeout | null = null;
  private readonly started = performance.now();

  constructor(
    private readonly urls: () => readonly string[],
    private readonly everyMs = 1000,
  ) {}

  /** Takes a first sample of every node (resolved once taken), then one every `everyMs` until stop. */
  async start(): Promise<void> {
    const poll = async (): Promise<void> => {
      await Promise.all(this.urls().map((url) => this.sample(url)));
      if (this.timer !== null) this.timer = setTimeout(poll, this.everyMs);
    };
    await Promise.all(this.urls().map((url) => this.sample(url)));
    this.timer = setTimeout(poll, this.everyMs);
  }

  stop(): ServerFigures {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.samples.size === 0) return { cpuShare: null, bytesPerConnection: null, connectionsPeak: null };
    return fleetFigures([...this.samples.values()].map(nodeFigures));
  }

  private async sample(url: string): Promise<void> {
    try {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(this.everyMs * 2) });
      if (!response.ok) return;
      const sample = parseServerMetrics(await response.text(), performance.now() - this.started);
      if (sample === null) return;
      const list = this.samples.get(url) ?? [];
      list.push(sample);
      this.samples.set(url, list);
    } catch {
      // Not up yet, restarting, or gone: the figures say what could be measured.
    }
  }
}
