// The physical limit the chatsim server is compared with: a bare `ws` server that does nothing but
// move frames, run as its own process. `echo` writes every frame back to its sender; `broadcast`
// writes every frame to each connection of the sender's room (?room=R), the sender included.
// Neither parses, stores nor syncs anything, so no chat server on the same box can beat it.

import { WebSocket, WebSocketServer } from 'ws';
import { protocolLimits } from '../reference-server/protocol/limits.ts';

// Prints `raw-ws MODE: listening on ws://127.0.0.1:PORT`, which raw-phase.ts waits for.
function startRawServer(mode: 'echo' | 'broadcast'): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: protocolLimits.frameBytesMax });
  const rooms = new Map<string, Set<WebSocket>>();

  wss.on('connection', (socket, request) => {
    if (mode === 'echo') {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      return;
    }
    const room = new URL(request.url ?? '/', 'ws://localhost').searchParams.get('room') ?? '';
    let members = rooms.get(room);
    if (!members) {
      members = new Set();
      rooms.set(room, members);
    }
    members.add(socket);
    const peers = members;
    socket.on('message', (data, isBinary) => {
      for (const peer of peers) if (peer.readyState === WebSocket.OPEN) peer.send(data, { binary: isBinary });
    });
    socket.on('close', () => {
      peers.delete(socket);
      if (peers.size === 0) rooms.delete(room);
    });
  });

  wss.on('listening', () => {
    const address = wss.address();
    if (address === null || typeof address === 'string')
      throw new Error(`unexpected pipe address ${address}`);
    console.log(`raw-ws ${mode}: listening on ws://127.0.0.1:${address.port}`);
  });

  const shutdown = () => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  // Forked by the bench: when the parent goes away, so does this server.
  process.on('disconnect', shutdown);
}

const mode = process.argv[2];
if (mode !== 'echo' && mode !== 'broadcast') {
  console.error(`usage: raw-ws-server.ts echo|broadcast (got ${mode ?? 'nothing'})`);
  process.exit(2);
}
startRawServer(mode);
