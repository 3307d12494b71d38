// k6 load script for a chat server speaking protocol v1 (docs/protocol.md), for teams that spread load
// over many machines with k6 (execution segments, k6-operator). Each VU plays one user of a group
// conversation: it holds a session for SESSION_SECONDS sending every SEND_INTERVAL_MS, then the next
// iteration reconnects and resumes. Thresholds are the SLOs and the protocol promises one VU can judge.
//
//   k6 run -e CHAT_URL=http://127.0.0.1:8080 -e CHAT_JWT_SECRET=... -e USERS=200 -e GROUP_SIZE=2 \
//     scenarios/k6/chat-load.ts
//
// scenarios/k6/README.md lists every variable, the metrics and how they map onto chatsim's.

import type { Options } from 'k6/options';
import { chatIteration } from './lib/chat-session.ts';
import { chatLoadConfig } from './lib/config.ts';
import { provision } from './lib/k6-runtime.ts';

const config = chatLoadConfig(__ENV);

export const options: Options = {
  scenarios: {
    chat: {
      executor: 'constant-vus',
      vus: config.users,
      duration: __ENV.DURATION ?? '2m',
      gracefulStop: `${Math.ceil(config.sessionMs / 1000) + 10}s`,
    },
  },
  thresholds: {
    ack_latency: [`p(99)<${__ENV.ACK_P99_MS ?? 250}`],
    failed_sends: [`rate<${__ENV.FAILED_SENDS_RATE ?? 0.01}`],
    agreement_violations: ['count==0'],
    idempotency_violations: ['count==0'],
    session_failures: [`count<=${__ENV.SESSION_FAILURES_MAX ?? 0}`],
    checks: ['rate>0.99'],
  },
};

export function setup(): void {
  provision(config);
}

export default function (): void {
  chatIteration(config);
}
