import { afterEach, describe, expect, it } from 'vitest';
import { ChildGroup, ChildStartError } from './child-group.ts';

const groups: ChildGroup[] = [];
function group(): ChildGroup {
  const g = new ChildGroup();
  groups.push(g);
  return g;
}

afterEach(async () => {
  await Promise.all(groups.splice(0).map((g) => g.close()));
});

function node(script: string): [string, string[]] {
  return [process.execPath, ['-e', script]];
}

describe('ChildGroup', () => {
  it('finds a line the child prints and stops the child', async () => {
    const g = group();
    const [cmd, args] = node('console.log("server: listening on port 4321"); setInterval(() => {}, 1000);');
    const child = g.spawn('server', cmd, args);
    const match = await child.waitForLine(/listening on port (\d+)/, 10_000);
    expect(match[1]).toBe('4321');
    expect(g.size).toBe(1);
    await g.stop(child);
    expect(g.size).toBe(0);
    expect((await child.exited).signal).toBe('SIGTERM');
  });

  it('kills with SIGKILL a child that ignores SIGTERM', async () => {
    const g = group();
    const [cmd, args] = node(
      'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000);',
    );
    const child = g.spawn('stubborn', cmd, args);
    await child.waitForLine(/up/, 10_000);
    await g.stopAll();
    expect((await child.exited).signal).toBe('SIGKILL');
  });

  it('rejects with the child output when the child exits before the line', async () => {
    const g = group();
    const [cmd, args] = node('console.error("bad flag --nope"); process.exit(3);');
    const child = g.spawn('broken', cmd, args);
    const error = await child.waitForLine(/listening/, 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildStartError);
    expect((error as ChildStartError).message).toMatch(/code 3/);
    expect((error as ChildStartError).message).toMatch(/bad flag --nope/);
    expect(g.size).toBe(0);
  });

  it('rejects when the line does not come in time', async () => {
    const g = group();
    const [cmd, args] = node('setInterval(() => {}, 1000);');
    const child = g.spawn('silent', cmd, args);
    await expect(child.waitForLine(/never/, 50)).rejects.toThrow(/printed no/);
  });

  it('forks TypeScript modules with an IPC channel', async () => {
    const g = group();
    const child = g.fork('worker', new URL('./test-fixtures/echo-ipc.ts', import.meta.url).pathname);
    const reply = new Promise((resolve) => child.process.once('message', resolve));
    child.process.send({ ping: 7 });
    expect(await reply).toEqual({ pong: 7 });
    await g.stop(child);
  });
});
