// The handlers of Toxiproxy 2.12's HTTP API over the embedded proxies: what each endpoint checks, in
// Toxiproxy's order, and what it answers (status, JSON, error text). HTTP plumbing lives in
// toxiproxy-server.ts; this file sees only parsed parameters and body text.

import { asStruct, decodeField, GoJsonError, parseBody } from './go-json.ts';
import { AddressError, formatAddress, resolveTcp } from './listen-address.ts';
import { type ProxyJson, ProxyStartError, TcpProxy } from './proxy.ts';
import type { ProxyMetrics } from './proxy-metrics.ts';
import { type Direction, type Toxic, toxicJson } from './toxic.ts';
import { toxicKinds } from './toxics/index.ts';
import { type Attributes, type ToxicKind, zeroAttributes } from './toxics/toxic-kind.ts';

export type ApiAnswer =
  | { status: number; json: unknown }
  | { status: number; error: string }
  | { status: 204 }
  | { status: number; populate: { error?: string; proxies: ProxyJson[] | null } }
  | { status: number; text: string; contentType: string };

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const badBody = (error: unknown) =>
  new ApiError(400, `bad request body: ${error instanceof Error ? error.message : String(error)}`);

function decode<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof GoJsonError) throw badBody(error);
    throw error;
  }
}

export class ToxiproxyApi {
  readonly proxies = new Map<string, TcpProxy>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly random: () => number,
    readonly version: string,
    /** Toxiproxy's -proxy-metrics; null answers /metrics with 404, as Toxiproxy does without it. */
    readonly metrics: ProxyMetrics | null = null,
  ) {}

  /** Runs a handler; ApiErrors and bind/resolve failures become answers, as Toxiproxy's apiError does. */
  async answer(handler: () => Promise<ApiAnswer>): Promise<ApiAnswer> {
    try {
      return await handler();
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, error: error.message };
      if (error instanceof ProxyStartError || error instanceof AddressError)
        return { status: 500, error: error.message };
      throw error;
    }
  }

  /** Proxy-collection changes run one at a time, as under Toxiproxy's collection lock. */
  serialized<T>(change: () => Promise<T>): Promise<T> {
    const result = this.queue.then(change);
    this.queue = result.catch(() => {});
    return result;
  }

  listProxies(): ApiAnswer {
    const names = [...this.proxies.keys()].sort();
    return {
      status: 200,
      json: Object.fromEntries(names.map((name) => [name, this.proxies.get(name)!.json()])),
    };
  }

  createProxy(body: string): Promise<ApiAnswer> {
    return this.serialized(async () => {
      const input = decode(() => proxyInput(parseBody(body), 'toxiproxy.Proxy'));
      if (!input.name) throw new ApiError(400, 'missing required field: name');
      if (!input.upstream) throw new ApiError(400, 'missing required field: upstream');
      if (this.proxies.has(input.name)) throw new ApiError(409, 'proxy already exists');
      const proxy = new TcpProxy(input.name, input.listen ?? '', input.upstream, this.random, this.metrics);
      if (input.enabled ?? true) await proxy.start();
      this.proxies.set(proxy.name, proxy);
      return { status: 201, json: proxy.json() };
    });
  }

  populate(body: string): Promise<ApiAnswer> {
    return this.serialized(async () => {
      let inputs: ReturnType<typeof proxyInput>[];
      try {
        const parsed = parseBody(body);
        if (parsed !== null && !Array.isArray(parsed))
          throw new GoJsonError(
            `json: cannot unmarshal ${typeof parsed} into Go value of type []toxiproxy.Proxy`,
          );
        inputs = ((parsed as unknown[] | null) ?? []).map((item) => proxyInput(item, 'toxiproxy.Proxy'));
      } catch (error) {
        if (!(error instanceof GoJsonError)) throw error;
        return { status: 400, populate: { error: badBody(error).message, proxies: null } };
      }
      for (const [i, input] of inputs.entries()) {
        for (const key of ['name', 'upstream'] as const)
          if (!input[key])
            return {
              status: 400,
              populate: { error: `missing required field: ${key} at proxy ${i + 1}`, proxies: null },
            };
      }
      const done: TcpProxy[] = [];
      for (const input of inputs) {
        try {
          done.push(await this.addOrReplace(input));
        } catch (error) {
          if (!(error instanceof ProxyStartError || error instanceof AddressError)) throw error;
          const proxies = done.length > 0 ? done.map((proxy) => proxy.json()) : null;
          return { status: 500, populate: { error: error.message, proxies } };
        }
      }
      return {
        status: 201,
        populate: { proxies: done.length > 0 ? done.map((proxy) => proxy.json()) : null },
      };
    });
  }

  getProxy(name: string): ApiAnswer {
    return { status: 200, json: this.proxy(name).json() };
  }

  updateProxy(name: string, body: string): Promise<ApiAnswer> {
    return this.serialized(async () => {
      const proxy = this.proxy(name);
      const input = decode(() => proxyInput(parseBody(body), 'toxiproxy.Proxy'));
      const listen = input.listen ?? proxy.listen;
      const upstream = input.upstream ?? proxy.upstream;
      const enabled = input.enabled ?? proxy.enabled;
      if (await differs(proxy, listen, upstream)) {
        proxy.stop();
        proxy.listen = listen;
        proxy.upstream = upstream;
      }
      if (enabled && !proxy.enabled) await proxy.start();
      if (!enabled) proxy.stop();
      return { status: 200, json: proxy.json() };
    });
  }

  deleteProxy(name: string): Promise<ApiAnswer> {
    return this.serialized(async () => {
      const proxy = this.proxy(name);
      this.proxies.delete(name);
      proxy.stop();
      return { status: 204 };
    });
  }

  /** Re-enables every proxy and removes every toxic; the first proxy that cannot start stops it (500). */
  reset(): Promise<ApiAnswer> {
    return this.serialized(async () => {
      for (const proxy of this.proxies.values()) {
        await proxy.start();
        await proxy.toxics.reset();
      }
      return { status: 204 };
    });
  }

  listToxics(proxyName: string): ApiAnswer {
    return { status: 200, json: this.proxy(proxyName).toxics.list().map(toxicJson) };
  }

  async createToxic(proxyName: string, body: string): Promise<ApiAnswer> {
    const proxy = this.proxy(proxyName);
    const wrapper = decode(() => asStruct(parseBody(body), 'toxics.ToxicWrapper'));
    const header = decode(() => ({
      name: decodeField(wrapper, 'name', 'string', 'ToxicWrapper'),
      type: decodeField(wrapper, 'type', 'string', 'ToxicWrapper') ?? '',
      stream: decodeField(wrapper, 'stream', 'string', 'ToxicWrapper') ?? 'downstream',
      toxicity: decodeField(wrapper, 'toxicity', 'float32', 'ToxicWrapper') ?? 1,
    }));
    const direction = header.stream.toLowerCase();
    if (direction !== 'upstream' && direction !== 'downstream')
      throw new ApiError(400, 'stream was invalid, can be either upstream or downstream');
    const name = header.name || `${header.type}_${header.stream}`;
    const kind = toxicKinds.get(header.type);
    if (!kind) throw new ApiError(400, 'invalid toxic type');
    if (proxy.toxics.find(name)) throw new ApiError(409, 'toxic already exists');
    const attributes = decodeAttributes(kind, wrapper, zeroAttributes(kind));
    const toxic: Toxic = {
      name,
      kind,
      stream: header.stream,
      direction: direction as Direction,
      toxicity: header.toxicity,
      attributes,
    };
    if (!(await proxy.toxics.add(toxic))) throw new ApiError(409, 'toxic already exists');
    return { status: 200, json: toxicJson(toxic) };
  }

  getToxic(proxyName: string, toxicName: string): ApiAnswer {
    return { status: 200, json: toxicJson(this.toxic(proxyName, toxicName)) };
  }

  /** Decoded over the live toxic: attributes merge, an omitted toxicity is kept; name/type/stream ignored. */
  async updateToxic(proxyName: string, toxicName: string, body: string): Promise<ApiAnswer> {
    const toxic = this.toxic(proxyName, toxicName);
    const input = decode(() =>
      asStruct(parseBody(body), 'struct { Attributes interface {}; Toxicity float32 }'),
    );
    const attributes = decodeAttributes(toxic.kind, input, toxic.attributes);
    const toxicity = decode(() => decodeField(input, 'toxicity', 'float32', 'Toxicity')) ?? toxic.toxicity;
    const updated: Toxic = { ...toxic, attributes, toxicity };
    await this.proxy(proxyName).toxics.update(updated);
    return { status: 200, json: toxicJson(updated) };
  }

  async deleteToxic(proxyName: string, toxicName: string): Promise<ApiAnswer> {
    const proxy = this.proxy(proxyName);
    if (!(await proxy.toxics.remove(toxicName))) throw new ApiError(404, 'toxic not found');
    return { status: 204 };
  }

  async metricsText(): Promise<ApiAnswer> {
    if (!this.metrics) throw new ApiError(404, 'metrics are off: start with proxy metrics');
    return {
      status: 200,
      text: await this.metrics.registry.metrics(),
      contentType: this.metrics.registry.contentType,
    };
  }

  /** Stops every proxy (the server is shutting down). */
  stopAll(): void {
    for (const proxy of this.proxies.values()) proxy.stop();
  }

  private proxy(name: string): TcpProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw new ApiError(404, 'proxy not found');
    return proxy;
  }

  private toxic(proxyName: string, toxicName: string): Toxic {
    const toxic = this.proxy(proxyName).toxics.find(toxicName);
    if (!toxic) throw new ApiError(404, 'toxic not found');
    return toxic;
  }

  private async addOrReplace(input: ReturnType<typeof proxyInput>): Promise<TcpProxy> {
    const existing = this.proxies.get(input.name!);
    const listen = input.listen ?? '';
    if (existing && !(await differs(existing, listen, input.upstream!))) return existing;
    existing?.stop();
    this.proxies.delete(input.name!);
    const proxy = new TcpProxy(input.name!, listen, input.upstream!, this.random, this.metrics);
    if (input.enabled ?? true) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }
}

function proxyInput(value: unknown, goType: string) {
  const struct = asStruct(value, goType);
  return {
    name: decodeField(struct, 'name', 'string', 'Proxy'),
    listen: decodeField(struct, 'listen', 'string', 'Proxy'),
    upstream: decodeField(struct, 'upstream', 'string', 'Proxy'),
    enabled: decodeField(struct, 'enabled', 'bool', 'Proxy'),
  };
}

/** Toxiproxy's Differs: the new listen resolved, compared with the current listen and upstream. */
async function differs(proxy: TcpProxy, listen: string, upstream: string): Promise<boolean> {
  const resolved = formatAddress(await resolveTcp(listen));
  return proxy.listen !== resolved || proxy.upstream !== upstream;
}

function decodeAttributes(kind: ToxicKind, wrapper: Record<string, unknown>, base: Attributes): Attributes {
  return decode(() => {
    const raw = decodeAttributeObject(wrapper, kind);
    const attributes = { ...base };
    for (const [name, type] of kind.attributes) {
      const value = decodeField(raw, name, type, kind.goStruct);
      if (value !== undefined) attributes[name] = value;
    }
    const problem = kind.validate?.(attributes);
    if (problem) throw new GoJsonError(problem);
    return attributes;
  });
}

function decodeAttributeObject(wrapper: Record<string, unknown>, kind: ToxicKind): Record<string, unknown> {
  const raw = Object.entries(wrapper).find(([key]) => key.toLowerCase() === 'attributes')?.[1];
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new GoJsonError(
      `json: cannot unmarshal ${Array.isArray(raw) ? 'array' : typeof raw} into Go struct field ToxicWrapper.attributes of type toxics.${kind.goStruct}`,
    );
  return raw as Record<string, unknown>;
}
