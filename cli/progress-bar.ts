// Progress of a long run on stderr: a redrawn bar on a terminal, a line every tenth elsewhere (CI
// logs), so a million-client run never looks hung.

import type { CliIo } from './cli-error.ts';

export function progressBar(io: CliIo, label: string, stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  let lastTenth = -1;
  const start = Date.now();
  return {
    update(done: number, phase: string): void {
      const fraction = Math.max(0, Math.min(1, done));
      const elapsed = ((Date.now() - start) / 1000).toFixed(0);
      if (tty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}% ${phase} ${elapsed}s `,
        );
      } else {
        const tenth = Math.floor(fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          io.err(`${label}: ${(fraction * 100).toFixed(0)}% (${phase}, ${elapsed}s)`);
        }
      }
    },
    done(): void {
      if (tty) stream.write('\n');
    },
  };
}
