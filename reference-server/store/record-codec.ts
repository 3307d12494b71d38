// How log records and checkpoint chunks sit on disk: a frame is u32 payload length, u32 CRC32 of the
// payload (both little-endian), then the payload, a JSON object. A frame that fails any check is
// reported, never half-trusted: replay stops there, and recovery decides whether it is a torn tail.

import { crc32 } from 'node:zlib';
import type { UserId } from '../protocol/frames.ts';
import type { ConversationKind } from './message-store.ts';

/** What the log records: only decisions that changed something. */
export type LogRecord =
  | { t: 'create'; id: string; kind: ConversationKind; members: UserId[] }
  | { t: 'append'; conv: string; seq: number; from: UserId; cmid: string; body: string; ts: number }
  | { t: 'members'; conv: string; add: UserId[]; remove: UserId[] }
  | { t: 'cursor'; conv: string; user: UserId; kind: 'delivered' | 'read'; seq: number };

export const frameHeaderBytes = 8;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, frameHeaderBytes);
  return frame;
}

/** The same bytes as `encodeFrame(Buffer.from(json))`, written into one buffer (no payload copy). */
export function encodeJsonFrame(value: unknown): Buffer {
  const json = JSON.stringify(value);
  const length = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(frameHeaderBytes + length);
  frame.write(json, frameHeaderBytes, 'utf8');
  frame.writeUInt32LE(length, 0);
  frame.writeUInt32LE(crc32(frame.subarray(frameHeaderBytes)), 4);
  return frame;
}

export type FrameRead =
  | { ok: true; payload: Buffer; end: number }
  /** `needBytes`: the frame claims a length this buffer does not hold (it may be longer on disk). */
  | { ok: false; reason: string; needBytes?: number };

/** Checks the frame at `offset` of `buffer`; a length of 0 is refused, so zero-filled tails never pass. */
export function readFrame(buffer: Buffer, offset: number, recordBytesMax: number): FrameRead {
  if (offset + frameHeaderBytes > buffer.length) {
    return { ok: false, reason: 'incomplete frame header', needBytes: frameHeaderBytes };
  }
  const length = buffer.readUInt32LE(offset);
  if (length === 0 || length > recordBytesMax)
    return { ok: false, reason: `implausible frame length ${length}` };
  const end = offset + frameHeaderBytes + length;
  if (end > buffer.length) {
    return { ok: false, reason: 'frame cut short', needBytes: frameHeaderBytes + length };
  }
  const payload = buffer.subarray(offset + frameHeaderBytes, end);
  if (crc32(payload) !== buffer.readUInt32LE(offset + 4)) return { ok: false, reason: 'CRC mismatch' };
  return { ok: true, payload, end };
}

export function decodeJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A record of the right shape, or null: a CRC-valid frame that is not one is corruption too. */
export function decodeRecord(payload: Buffer): LogRecord | null {
  const value = decodeJson(payload) as Record<string, unknown> | undefined;
  if (typeof value !== 'object' || value === null) return null;
  switch (value.t) {
    case 'append':
      return isStr(value.conv) &&
        isNum(value.seq) &&
        isStr(value.from) &&
        isStr(value.cmid) &&
        isStr(value.body) &&
        isNum(value.ts)
        ? (value as LogRecord)
        : null;
    case 'create':
      return isStr(value.id) &&
        (value.kind === 'direct' || value.kind === 'group') &&
        isStrList(value.members)
        ? (value as LogRecord)
        : null;
    case 'members':
      return isStr(value.conv) && isStrList(value.add) && isStrList(value.remove)
        ? (value as LogRecord)
        : null;
    case 'cursor':
      return isStr(value.conv) &&
        isStr(value.user) &&
        (value.kind === 'delivered' || value.kind === 'read') &&
        isNum(value.seq)
        ? (value as LogRecord)
        : null;
    default:
      return null;
  }
}

function isStr(value: unknown): value is string {
  return typeof value === 'string';
}

function isNum(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStrList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isStr);
}
