// A forked child for child-group.test.ts: answers one IPC message, typed, to prove tsx loads it.

type Ping = { ping: number };

process.on('message', (message: Ping) => {
  process.send?.({ pong: message.ping });
});
process.on('disconnect', () => process.exit(0));
