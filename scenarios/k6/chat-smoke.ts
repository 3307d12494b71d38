// A small k6 check of a chat server's protocol v1 (docs/protocol.md): two VUs share one conversation,
// each runs three short sessions (so the second and third resume), sending every 200 ms. Thresholds are
// strict: every send acked, nothing seen twice differently, every session welcomed. Quick enough for a
// CI job in front of a k6 load run.
//
//   k6 run -e CHAT_URL=http://127.0.0.1:8080 -e CHAT_JWT_SECRET=... scenarios/k6/chat-smoke.ts

import type { Options } from 'k6/options';
import { chatIteration } from './lib/chat-session.ts';
import { chatLoadConfig } from './lib/config.ts';
import { provision } from './lib/k6-runtime.ts';

const config = chatLoadConfig({
  USERS: '2',
  GROUP_SIZE: '2',
  SEND_INTERVAL_MS: '200',
  SESSION_SECONDS: '3',
  ID_PREFIX: 'k6-smoke',
  ...__ENV,
});

export const options: Options = {
  scenarios: {
    smoke: { executor: 'per-vu-iterations', vus: config.users, iterations: 3, maxDuration: '1m' },
  },
  thresholds: {
    ack_latency: ['p(95)<1000'],
    failed_sends: ['rate==0'],
    displayed_messages: ['count>0'],
    agreement_violations: ['count==0'],
    idempotency_violations: ['count==0'],
    session_failures: ['count==0'],
    checks: ['rate==1'],
  },
};

export function setup(): void {
  provision(config);
}

export default function (): void {
  chatIteration(config);
}
