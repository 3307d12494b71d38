// What a k6 run of the chat scripts is told through environment variables (`k6 run -e NAME=value`),
// checked once with every problem reported together, and the topology derived from it: user n is
// `${prefix}-u${n}`, users are split into groups of GROUP_SIZE consecutive users, each group one
// conversation. Deterministic, so every k6 instance of a distributed run (execution segments,
// k6-operator) provisions and uses the same ids. Pure TypeScript, no k6 import.

export type ChatLoadConfig = {
  /** Base URL of the server's HTTP API, e.g. http://chat.internal:8080. */
  httpUrl: string;
  /** Its WebSocket endpoint, derived from httpUrl unless WS_URL is given. */
  wsUrl: string;
  secret: string;
  users: number;
  groupSize: number;
  /** Each VU sends one message every this many ms while its session lasts. */
  sendIntervalMs: number;
  /** A session lasts this long, then closes; the next iteration reconnects and resumes. */
  sessionMs: number;
  /** A gap (a known message not yet displayed) older than this is pulled with `sync`. */
  gapMs: number;
  bodyBytes: number;
  /** Prefix of every user and conversation id, so runs do not collide on a shared server. */
  prefix: string;
};

const idPattern = /^[A-Za-z0-9_.:-]{1,40}$/;

export function chatLoadConfig(env: Record<string, string | undefined>): ChatLoadConfig {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max)
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const httpUrl = (env.CHAT_URL ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(httpUrl))
    problems.push("CHAT_URL must be the server's base URL, e.g. -e CHAT_URL=http://127.0.0.1:8080");
  const secret = env.CHAT_JWT_SECRET ?? '';
  if (secret === '') problems.push("CHAT_JWT_SECRET must be the server's HS256 token secret");
  const users = integer('USERS', 100, 1, 10_000_000);
  const groupSize = integer('GROUP_SIZE', 2, 1, 100_000);
  if (problems.length === 0 && users % groupSize !== 0)
    problems.push(`USERS (${users}) must be a multiple of GROUP_SIZE (${groupSize})`);
  const prefix = env.ID_PREFIX ?? 'k6';
  if (!idPattern.test(prefix)) problems.push(`ID_PREFIX must be 1-40 characters of [A-Za-z0-9_.:-]`);
  const config: ChatLoadConfig = {
    httpUrl,
    wsUrl: env.WS_URL ?? `${httpUrl.replace(/^http/, 'ws')}/v1/ws`,
    secret,
    users,
    groupSize,
    sendIntervalMs: integer('SEND_INTERVAL_MS', 1000, 1, 3_600_000),
    sessionMs: integer('SESSION_SECONDS', 30, 1, 86_400) * 1000,
    gapMs: integer('GAP_MS', 500, 1, 600_000),
    bodyBytes: integer('BODY_BYTES', 64, 1, 4096),
    prefix,
  };
  if (problems.length > 0) throw new Error(`bad k6 environment:\n  ${problems.join('\n  ')}`);
  return config;
}

/** User n (1-based) of the run; VU n of the whole test (exec.vu.idInTest) plays user ((n-1) mod USERS) + 1. */
export function userId(config: ChatLoadConfig, n: number): string {
  return `${config.prefix}-u${((n - 1) % config.users) + 1}`;
}

/** The conversation of user n, and its members. */
export function conversationOf(config: ChatLoadConfig, n: number): { id: string; members: string[] } {
  const index = ((n - 1) % config.users) / config.groupSize;
  const group = Math.floor(index);
  const members = Array.from({ length: config.groupSize }, (_, i) =>
    userId(config, group * config.groupSize + i + 1),
  );
  return { id: `${config.prefix}-c${group + 1}`, members };
}

/** Every conversation of the run, for provisioning. */
export function allConversations(config: ChatLoadConfig): { id: string; members: string[] }[] {
  const count = config.users / config.groupSize;
  return Array.from({ length: count }, (_, g) => conversationOf(config, g * config.groupSize + 1));
}
