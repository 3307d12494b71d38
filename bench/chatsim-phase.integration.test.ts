import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseBenchOptions } from './bench-options.ts';
import { runChatPhase } from './chatsim-phase.ts';
import { ChildGroup } from './child-group.ts';

const group = new ChildGroup();
afterEach(async () => {
  await group.stopAll();
});
afterAll(async () => {
  await group.close();
});

describe('chatsim phases (real `chatsim serve`, loopback)', () => {
  it('1:1: sends are acked durably (fsyncs ran) and pushed to the peer, without errors', async () => {
    const options = parseBenchOptions(['--seconds', '1', '--connections', '4', '--window', '2']);
    const figures = await runChatPhase(group, 'direct', options);
    expect(figures.connections).toBe(4);
    expect(figures.completed).toBeGreaterThan(0);
    expect(figures.deliveries).toBeGreaterThan(0);
    expect(figures).toMatchObject({ errors: {}, closes: {}, unansweredAtEnd: 0 });
    expect(figures.fsync?.fsyncs).toBeGreaterThan(0);
    expect(group.size).toBe(0);
  });

  it('group: one 50-member conversation fans every message out to the other members', async () => {
    const options = parseBenchOptions(['--seconds', '1', '--group-connections', '50', '--window', '1']);
    const figures = await runChatPhase(group, 'group', options);
    expect(figures.connections).toBe(50);
    expect(figures.completed).toBeGreaterThan(0);
    expect(figures.deliveries).toBeGreaterThan(figures.completed);
    expect(figures).toMatchObject({ errors: {}, closes: {}, unansweredAtEnd: 0 });
    expect(group.size).toBe(0);
  });
});
