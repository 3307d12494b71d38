// Every connection the simulated network ever made, one 32-byte row each (an array of structs) indexed
// by the connection id: a frame sent reads the connection's state, breakage, node, client, queue flag
// and last arrival time, and a frame arriving its state, so they sit side by side in one cache line
// instead of one line in each of six columns (at a million clients each column is megabytes: every
// read was a miss of its own). No object per connection either. Ids are dense and never reused (a late
// event names a dead id).

import type { ServerFrame } from '../../reference-server/protocol/frames.ts';

export const ConnectionState = { connecting: 0, open: 1, closed: 2 } as const;

/**
 * Frames waiting for a rate-limited link, in order. A `frame` of null is the node's close (`code`): it
 * leaves behind the frames queued before it, as a close frame follows the data on a TCP stream.
 */
export type PendingFrames = { frame: ServerFrame | null; bytes: number; code?: number }[];

/** A row's width in doubles (32 bytes), and where each field sits in it. */
const rowDoubles = 4;
/** Doubles: when the last frame in each direction arrives (later frames never overtake it). */
const toClientAtDouble = 0;
const toNodeAtDouble = 1;
/** 32-bit integers (8 a row): the client, the node, the node's epoch when the connection was made. */
const rowInts = 2 * rowDoubles;
const clientInt = 4;
const nodeInt = 5;
const epochInt = 6;
/**
 * Bytes (32 a row): the state, broken (1: frames are lost), draining (1: `pending` holds frames), closed
 * by the node (1: its close has left or waits in `pending`).
 */
const rowBytes = 8 * rowDoubles;
const stateByte = 28;
const brokenByte = 29;
const drainingByte = 30;
const nodeClosedByte = 31;

export class ConnectionTable {
  private capacity = 1024;
  count = 0;
  /** The rows, seen as doubles, 32-bit integers and bytes (one buffer; replaced when it grows). */
  private doubles = new Float64Array(this.capacity * rowDoubles);
  private ints = new Int32Array(this.doubles.buffer);
  private bytes = new Uint8Array(this.doubles.buffer);
  /** Bytes the node has written that the link has not carried yet (its send buffer): bandwidth faults only. */
  queuedBytes = new Float64Array(this.capacity);
  /** Frames waiting for a rate-limited link; absent when nothing waits (rare: bandwidth faults). */
  readonly pending = new Map<number, PendingFrames>();

  /** A new connection, connecting, unbroken, nothing sent yet; returns its id. */
  add(client: number, node: number, epoch: number): number {
    if (this.count === this.capacity) this.grow();
    const id = this.count++;
    this.ints[id * rowInts + clientInt] = client;
    this.ints[id * rowInts + nodeInt] = node;
    this.ints[id * rowInts + epochInt] = epoch;
    this.bytes[id * rowBytes + stateByte] = ConnectionState.connecting;
    return id;
  }

  /** Whether `id` names a connection ever made. */
  has(id: number): boolean {
    return id >= 0 && id < this.count;
  }

  clientOf(id: number): number {
    return this.ints[id * rowInts + clientInt]!;
  }

  nodeOf(id: number): number {
    return this.ints[id * rowInts + nodeInt]!;
  }

  /** The node's epoch when the connection was made: frames to a later incarnation are void. */
  epochOf(id: number): number {
    return this.ints[id * rowInts + epochInt]!;
  }

  stateOf(id: number): number {
    return this.bytes[id * rowBytes + stateByte]!;
  }

  setState(id: number, state: number): void {
    this.bytes[id * rowBytes + stateByte] = state;
  }

  /** Frames on it are lost (a cut or a reset); each end learns by its own timeout or the reset. */
  isBroken(id: number): boolean {
    return this.bytes[id * rowBytes + brokenByte] !== 0;
  }

  markBroken(id: number): void {
    this.bytes[id * rowBytes + brokenByte] = 1;
  }

  /** The node has closed it: what it writes after that is no send buffer the node still owns. */
  isClosedByNode(id: number): boolean {
    return this.bytes[id * rowBytes + nodeClosedByte] !== 0;
  }

  markClosedByNode(id: number): void {
    this.bytes[id * rowBytes + nodeClosedByte] = 1;
  }

  /** True exactly while `pending` holds frames (or a close) for it: sendToClient reads it first. */
  isDraining(id: number): boolean {
    return this.bytes[id * rowBytes + drainingByte] !== 0;
  }

  setDraining(id: number, draining: boolean): void {
    this.bytes[id * rowBytes + drainingByte] = draining ? 1 : 0;
  }

  toClientAt(id: number): number {
    return this.doubles[id * rowDoubles + toClientAtDouble]!;
  }

  setToClientAt(id: number, at: number): void {
    this.doubles[id * rowDoubles + toClientAtDouble] = at;
  }

  toNodeAt(id: number): number {
    return this.doubles[id * rowDoubles + toNodeAtDouble]!;
  }

  setToNodeAt(id: number, at: number): void {
    this.doubles[id * rowDoubles + toNodeAtDouble] = at;
  }

  private grow(): void {
    this.capacity *= 2;
    const doubles = new Float64Array(this.capacity * rowDoubles);
    // Byte for byte: most of a row is no double.
    new Uint8Array(doubles.buffer).set(this.bytes);
    this.doubles = doubles;
    this.ints = new Int32Array(doubles.buffer);
    this.bytes = new Uint8Array(doubles.buffer);
    const queuedBytes = new Float64Array(this.capacity);
    queuedBytes.set(this.queuedBytes);
    this.queuedBytes = queuedBytes;
  }
}
