// The minimal server's command line, for harnesses that start a server under test by command:
//   node --import tsx test-support/minimal-server/main.ts --port {port} --data-dir {dataDir} --jwt-secret S
// It prints `listening on <http url>, <ws url>` once ready, drains on SIGTERM/SIGINT (drain, close
// 1012, exit 0), and keeps its journal in --data-dir (omit it to keep nothing across restarts). A bad
// flag, a taken port or a damaged journal is one line on stderr and exit 2.

import { parseArgs } from 'node:util';
import { defaultMinimalLimits, type MinimalLimits } from './limits.ts';
import { startMinimalServer } from './server.ts';

const limitFlags = Object.keys(defaultMinimalLimits) as (keyof MinimalLimits)[];
const flagOf = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const usage = `usage: main.ts --port <n> [--host 127.0.0.1] [--data-dir <dir>] [--jwt-secret <s> | env CHAT_JWT_SECRET]
  [--node-id <id>] [--close-timeout-ms <n>] ${limitFlags.map((f) => `[--${flagOf(f)} <n>]`).join(' ')}`;

function fail(message: string, code = 2): never {
  process.stderr.write(`minimal server: ${message}\n${code === 2 ? `${usage}\n` : ''}`);
  process.exit(code);
}

function positiveInt(name: string, text: string | undefined, allowZero = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || (value === 0 && !allowZero))
    fail(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${text}'`);
  return value;
}

async function main(): Promise<void> {
  const stringFlag = { type: 'string' } as const;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      options: {
        port: stringFlag,
        host: stringFlag,
        'data-dir': stringFlag,
        'jwt-secret': stringFlag,
        'node-id': stringFlag,
        'close-timeout-ms': stringFlag,
        ...Object.fromEntries(limitFlags.map((f) => [flagOf(f), stringFlag])),
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const values = parsed.values as Record<string, string | undefined>;
  const port = positiveInt('port', values.port, true);
  if (port === undefined || port > 65_535) fail('--port <0-65535> is required (0 picks a free one)');
  const secret = values['jwt-secret'] ?? process.env.CHAT_JWT_SECRET;
  if (!secret) fail('--jwt-secret <secret> (or env CHAT_JWT_SECRET) is required: the HS256 token secret');
  const limits: Partial<MinimalLimits> = {};
  for (const field of limitFlags) {
    const value = positiveInt(flagOf(field), values[flagOf(field)]);
    if (value !== undefined) limits[field] = value;
  }
  const closeTimeoutMs = positiveInt('close-timeout-ms', values['close-timeout-ms']);
  const server = await startMinimalServer({
    port,
    host: values.host ?? '127.0.0.1',
    secret,
    limits,
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(values['node-id'] !== undefined ? { nodeId: values['node-id'] } : {}),
    ...(closeTimeoutMs !== undefined ? { closeTimeoutMs } : {}),
    onFatal: (error) => fail(`${error.message}: stopping, nothing more can be made durable`, 1),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') fail(`port ${port} is in use: pick another --port (0 picks a free one)`);
    fail(`cannot start: ${error.message}`);
  });
  const where =
    values['data-dir'] === undefined ? 'in memory only (no --data-dir)' : `journal in ${values['data-dir']}`;
  process.stdout.write(`minimal server: listening on ${server.url}, ${server.wsUrl} (${where})\n`);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`minimal server: ${signal} again: stopping without waiting for the drain\n`);
      void server.close().then(() => process.exit(0));
      return;
    }
    signalled = true;
    process.stderr.write(`minimal server: ${signal}: draining\n`);
    void server.drain().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

await main();
