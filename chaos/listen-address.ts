// host:port addresses as Go's net package reads and prints them: `localhost` resolves to 127.0.0.1,
// an empty host means every interface, IPv6 hosts print in brackets. Errors read like Go's, since the
// API hands them to the client verbatim.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export class AddressError extends Error {}

export type HostPort = { host: string; port: number };

export function splitHostPort(address: string): { host: string; port: string } {
  const missing = () => new AddressError(`address ${address}: missing port in address`);
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) throw new AddressError(`address ${address}: missing ']' in address`);
    if (address[close + 1] !== ':') throw missing();
    return { host: address.slice(1, close), port: address.slice(close + 2) };
  }
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw missing();
  const host = address.slice(0, colon);
  if (host.includes(':')) throw new AddressError(`address ${address}: too many colons in address`);
  return { host, port: address.slice(colon + 1) };
}

function parsePort(text: string): number {
  if (text === '') return 0;
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new AddressError(`lookup tcp/${text}: unknown port`);
  return port;
}

/** Go's net.ResolveTCPAddr: host names become IPs (IPv4 first); an empty host stays empty. */
export async function resolveTcp(address: string): Promise<HostPort> {
  const { host, port } = splitHostPort(address);
  const portNumber = parsePort(port);
  if (host === '' || isIP(host)) return { host, port: portNumber };
  if (host === 'localhost') return { host: '127.0.0.1', port: portNumber };
  try {
    const found = await lookup(host, { order: 'ipv4first' });
    return { host: found.address, port: portNumber };
  } catch {
    throw new AddressError(`lookup ${host}: no such host`);
  }
}

export function formatAddress({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** For dialling: no resolution, the OS's resolver does it. */
export function parseHostPort(address: string): HostPort {
  const { host, port } = splitHostPort(address);
  return { host: host === '' ? 'localhost' : host, port: parsePort(port) };
}
