// Every NodeLimits field as a `chatsim serve` flag, named after the field (units are in the names:
// `--heartbeat-ms`, `--send-buffer-bytes-max`). The description table is typed by NodeLimits, so a
// new limit without a flag does not compile.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { defaultLimits, type NodeLimits } from '../reference-server/core/limits.ts';

const descriptions: Record<keyof NodeLimits, string> = {
  helloTimeoutMs: 'time a new connection has to send hello before close 4408',
  heartbeatMs: 'interval of WebSocket pings; two unanswered pings terminate the connection',
  largeGroupThreshold: 'members above which a conversation gets notify instead of msg pushes',
  typingThrottleMs: 'at most one relayed typing frame per (user, conv) in this interval',
  typingTtlMs: 'how long receivers show a typing indicator',
  sendBufferBytesMax: 'bytes queued to one connection before close 4509 (slow consumer)',
  badFramesMax: 'bad frames one connection may send; the next closes it with 4400',
  notifyCoalesceMs: 'notify frames of a large group are coalesced over this interval',
  drainReconnectMs: 'reconnectInMs announced in drain frames',
  drainTimeoutMs: 'a drain force-closes the remaining connections after this long',
  userSendsPerSec: 'sustained sends per second per user',
  userSendBurst: 'burst of sends per user',
  connFramesPerSec: 'sustained frames per second per connection',
  connFrameBurst: 'burst of frames per connection',
  framesWhileVerifyingMax: 'frames a connection may send while its token is verified; more closes it 4400',
  watchedUsersPerConnMax: 'users one connection may watch for presence',
  gapGraceMs: 'a seq missing this long (lost bus event) is read from the store and pushed',
  catchUpRetryMs: 'a failed catch-up from the store (after the bus was lost) is retried after this long',
};

export function flagOf(field: keyof NodeLimits): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError('it must be a positive integer.');
  return n;
}

export function addLimitFlags(command: Command): Command {
  for (const field of Object.keys(descriptions) as (keyof NodeLimits)[]) {
    command.addOption(
      new Option(
        `${flagOf(field)} <n>`,
        `${descriptions[field]} (default ${defaultLimits[field]})`,
      ).argParser(parsePositiveInteger),
    );
  }
  return command;
}

/** The limits given on the command line; commander stores each flag under its field's name. */
export function limitsFrom(options: Record<string, unknown>): Partial<NodeLimits> {
  const limits: Partial<NodeLimits> = {};
  for (const field of Object.keys(descriptions) as (keyof NodeLimits)[]) {
    const value = options[field];
    if (typeof value === 'number') limits[field] = value;
  }
  return limits;
}
