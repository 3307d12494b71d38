import { afterEach, describe, expect, it, vi } from 'vitest';
import { generatorExecArgv, whileHeard } from './generator-pool.ts';
import { liveLimits } from './limits.ts';

describe('whileHeard: waits on generators as long as they speak', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits past the limit for an answer queued behind a generator that keeps sending', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const heard = [performance.now(), performance.now()];
    let answer: (value: string) => void = () => {};
    const waiting = whileHeard(
      new Promise<string>((resolve) => {
        answer = resolve;
      }),
      () => heard,
      'generator status',
      1000,
    );
    // Three limits long, each generator heard every 400 ms (its batches reaching a backlogged driver).
    for (let t = 0; t < 3000; t += 400) {
      await vi.advanceTimersByTimeAsync(400);
      heard[0] = performance.now();
      heard[1] = performance.now();
    }
    answer('status');
    await expect(waiting).resolves.toBe('status');
  });

  it('gives up on a generator silent for the limit, naming it; one that sent its report does not count', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const heard: (number | null)[] = [performance.now(), performance.now(), null];
    const waiting = whileHeard(new Promise<string>(() => {}), () => heard, 'generator status', 1000);
    const outcome = waiting.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    for (let t = 0; t < 900; t += 300) {
      await vi.advanceTimersByTimeAsync(300);
      heard[0] = performance.now();
    }
    await vi.advanceTimersByTimeAsync(300);
    expect(await outcome).toMatch(
      /^generator 1 said nothing for 1\d{3} ms while the driver waited for generator status$/,
    );
  });
});

describe('generatorExecArgv', () => {
  it('starts a generator with a young generation sized for its churn, through tsx only from its source', () => {
    for (const tsx of [false, true]) {
      const argv = generatorExecArgv({}, tsx);
      expect(argv).toContain(`--max-semi-space-size=${liveLimits.generatorSemiSpaceMb}`);
      expect(argv).not.toContain('--optimize-for-size');
      expect(argv.some((flag) => flag.startsWith('--cpu-prof'))).toBe(false);
    }
    expect(generatorExecArgv({}, false).some((flag) => /tsx/.test(flag))).toBe(false);
    const throughTsx = generatorExecArgv({}, true);
    expect(throughTsx[0]).toBe('--import');
    expect(throughTsx[1]).toMatch(/tsx/);
  });

  it('writes CPU profiles where CHATSIM_GENERATOR_CPU_PROF_DIR says', () => {
    const argv = generatorExecArgv({ CHATSIM_GENERATOR_CPU_PROF_DIR: '/tmp/profiles' }, false);
    expect(argv).toContain('--cpu-prof');
    expect(argv).toContain('--cpu-prof-dir=/tmp/profiles');
  });
});
