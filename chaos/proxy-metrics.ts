// Toxiproxy's -proxy-metrics: byte counters per proxy and direction, in Toxiproxy's names and labels,
// so a dashboard built for Toxiproxy reads the embedded one. Counted as bytes move (Toxiproxy adds
// them when a link ends), so a long game-day connection shows up while it lasts.

import { Counter, Registry } from 'prom-client';
import type { Direction } from './toxic.ts';

export type LinkCounters = { received(bytes: number): void; sent(bytes: number): void };
export type ProxyLabels = { proxy: string; listener: string; upstream: string };

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly receivedBytes: Counter<'direction' | 'listener' | 'proxy' | 'upstream'>;
  private readonly sentBytes: Counter<'direction' | 'listener' | 'proxy' | 'upstream'>;

  constructor() {
    const labelNames = ['direction', 'listener', 'proxy', 'upstream'] as const;
    this.receivedBytes = new Counter({
      name: 'toxiproxy_proxy_received_bytes_total',
      help: 'Bytes the proxy read from the source of a link',
      labelNames,
      registers: [this.registry],
    });
    this.sentBytes = new Counter({
      name: 'toxiproxy_proxy_sent_bytes_total',
      help: 'Bytes the proxy wrote to the destination of a link',
      labelNames,
      registers: [this.registry],
    });
  }

  forLink(labels: ProxyLabels, direction: Direction): LinkCounters {
    // In Toxiproxy's label order: prom-client prints labels as the object lists them.
    const all = { direction, listener: labels.listener, proxy: labels.proxy, upstream: labels.upstream };
    const received = this.receivedBytes.labels(all);
    const sent = this.sentBytes.labels(all);
    return { received: (bytes) => received.inc(bytes), sent: (bytes) => sent.inc(bytes) };
  }
}

export const uncounted: LinkCounters = { received: () => {}, sent: () => {} };
