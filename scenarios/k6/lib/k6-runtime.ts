// What the chat scripts take from k6 itself: the metrics they report (created in the init context, as
// k6 requires), token minting with k6's crypto, and provisioning through the protocol's admin HTTP API.
// Metric names are snake_case as k6's own are; README.md maps each onto chatsim's metrics.

import { check, fail } from 'k6';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { ChatLoadConfig } from './config.ts';
import { allConversations } from './config.ts';
import { type Encoders, mintToken } from './jwt.ts';

export const metrics = {
  /** From a send's scheduled time to its ack (ms). */
  ackLatency: new Trend('ack_latency', true),
  /** Per send: true when it was given up (final err, or no ack after its retries). */
  failedSends: new Rate('failed_sends'),
  /** From the message's server timestamp to its display on another VU (ms; needs synced clocks). */
  deliveryLatency: new Trend('delivery_latency', true),
  /** From opening the socket to the welcome (ms). */
  connectLatency: new Trend('connect_latency', true),
  /** Messages displayed (exactly once, in seq order) by recipients, by how they came. */
  displayedMessages: new Counter('displayed_messages'),
  /** Frames dropped as duplicates by (conv, seq): allowed by the protocol, counted for the ratio. */
  duplicateFrames: new Counter('duplicate_frames'),
  /** Messages that arrived in the batches answering a hello's resume. */
  resumedMessages: new Counter('resumed_messages'),
  /** A seq seen with two different messages (protocol guarantee 3). Must stay 0. */
  agreementViolations: new Counter('agreement_violations'),
  /** A cmid acked with two different seqs (guarantee 2). Must stay 0. */
  idempotencyViolations: new Counter('idempotency_violations'),
  /** Syncs sent to pull a gap, a notify or the rest of a batch. */
  syncs: new Counter('syncs'),
  /** Sessions that reached a welcome, and sessions that did not. */
  sessions: new Counter('sessions'),
  sessionFailures: new Counter('session_failures'),
};

export const k6Encoders: Encoders = {
  base64url: (text) => encoding.b64encode(text, 'rawurl'),
  hmacSha256: (secret, data) => crypto.hmac('sha256', secret, data, 'base64rawurl'),
};

export function tokenFor(config: ChatLoadConfig, user: string, admin = false): string {
  return mintToken(k6Encoders, config.secret, user, { admin, nowSec: Math.floor(Date.now() / 1000) });
}

/**
 * Creates every conversation of the run through `POST /v1/admin/conversations`. Idempotent on the id
 * (201 created, 200 already there), so each instance of a distributed run may call it from setup().
 */
export function provision(config: ChatLoadConfig): void {
  const token = tokenFor(config, `${config.prefix}-admin`, true);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (const conv of allConversations(config)) {
    const response = http.post(
      `${config.httpUrl}/v1/admin/conversations`,
      JSON.stringify({
        id: conv.id,
        kind: config.groupSize === 2 ? 'direct' : 'group',
        members: conv.members,
      }),
      { headers, tags: { name: 'provision' } },
    );
    const created = check(response, {
      'conversation provisioned (201 or 200)': (r) => r.status === 201 || r.status === 200,
    });
    if (!created)
      fail(
        `provisioning ${conv.id} at ${config.httpUrl} answered ${response.status}: ${String(response.body)}`,
      );
  }
}
