// Before a live run starts: every node must accept a WebSocket hello signed with the run's secret and
// answer it with `welcome`, and accept an admin token over HTTP. A wrong secret (hello closed with
// 4401), a server that does not speak the protocol, or one that cannot be reached each get one line.

import { WebSocket } from 'ws';
import { clientFrame, encodeClientFrame } from '../client/wire.ts';
import { FleetError } from './fleet.ts';
import type { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';

const probeUser = 'chatsim-preflight';

/** Resolves with each node's id, as its welcome frames name it. */
export async function preflight(urls: readonly string[], tokens: TokenCache): Promise<string[]> {
  const nodeIds = await Promise.all(urls.map((url) => helloAccepted(url, tokens.of(probeUser))));
  const status = await fetch(`${urls[0]}/v1/conversations/chatsim-preflight-none/receipts`, {
    headers: { authorization: `Bearer ${tokens.admin()}` },
    signal: AbortSignal.timeout(liveLimits.preflightTimeoutMs),
  }).then(
    (r) => r.status,
    () => 0,
  );
  if (status === 401)
    throw new FleetError(
      `${urls[0]} refused an admin token signed with the run's secret (HTTP 401): is --jwt-secret the server's secret?`,
    );
  return nodeIds;
}

function helloAccepted(url: string, token: string): Promise<string> {
  const wsUrl = `${url.replace(/^http/, 'ws')}/v1/ws`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new FleetError(`${wsUrl}: ${why}`));
    };
    const timer = setTimeout(
      () =>
        fail(
          `no welcome within ${liveLimits.preflightTimeoutMs} ms of a hello: is it a chat server speaking protocol v1?`,
        ),
      liveLimits.preflightTimeoutMs,
    );
    ws.on('open', () => ws.send(encodeClientFrame(clientFrame.hello(token, 'preflight'))));
    ws.on('message', (data: Buffer) => {
      let frame: { t?: unknown; node?: unknown } = {};
      try {
        frame = JSON.parse(data.toString('utf8'));
      } catch {
        return fail('answered a hello with something that is not JSON');
      }
      if (frame.t === 'welcome') {
        clearTimeout(timer);
        ws.close(1000);
        resolve(typeof frame.node === 'string' ? frame.node : url);
      } else if (frame.t !== 'presence')
        fail(`answered a hello with ${JSON.stringify(frame).slice(0, 120)} instead of welcome`);
    });
    ws.on('close', (code: number) => {
      if (code === 4401)
        fail("every hello is refused (close 4401, unauthorized): is --jwt-secret the server's secret?");
      else fail(`closed the connection (${code}) instead of answering hello with welcome`);
    });
    ws.on('error', (error: Error & { code?: string }) =>
      fail(`cannot connect (${error.code ?? error.message}): is the server running there?`),
    );
  });
}
