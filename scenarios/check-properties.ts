// The properties a run judges, one per checker (simulator/checkers/index.ts registers them in this
// order; a test keeps the two in step). A scenario names them in `checks.skip`.

export const checkProperties = [
  'per-conversation-order',
  'agreement',
  'no-duplicates',
  'no-loss',
  'durable-ack',
  'idempotency',
  'gap-free-store',
  'authorization',
  'read-pages',
  'cursor-monotonicity',
  'presence-convergence',
  'presence-changes',
  'rate-limit',
  'typing-recipients',
  'server-frames',
  'no-spurious-unavailable',
  'delivery-mode',
  'admin-answers',
  'drain-stop',
  'liveness',
] as const;

export type CheckProperty = (typeof checkProperties)[number];
