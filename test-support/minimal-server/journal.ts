// Durability of the minimal server: an append-only JSON-lines file in the data dir, fsynced in groups,
// and an output gate. The gate is the whole durability argument: every frame or HTTP answer the server
// produces waits until every record appended before it was produced is on disk. So nothing a client
// sees (an ack, a push, a lastSeq, a cursor, a 201) can be lost by a crash, whatever the record type.
// Without a data dir the journal keeps nothing and the gate never waits: a restart loses everything.

import { mkdirSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const journalFileName = 'minimal-server.jsonl';

export class JournalError extends Error {
  readonly code = 'MINIMAL_ERR_JOURNAL';
}

type Gated = { position: number; run: () => void };

export class Journal {
  /** Records appended (the position of the newest one); `durable` trails it until its fsync returns. */
  private appended = 0;
  private durable = 0;
  private pending: string[] = [];
  private readonly gated: Gated[] = [];
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  /** Byte offset of the file's end: the cut made at open, plus everything written since. */
  private writePosition = 0;

  private constructor(
    private readonly file: FileHandle | null,
    /** Called once if a write or fsync fails: the server can no longer promise anything. */
    private readonly onFailure: (error: Error) => void,
  ) {}

  /**
   * Opens the journal in `dataDir` (created if missing) and hands every complete record to `replay`, in
   * order. A torn last line (a crash in the middle of a write, never acknowledged) is cut off; an
   * unreadable line before it means the file is damaged, and opening fails with a JournalError.
   */
  static async open(
    dataDir: string | undefined,
    replay: (record: unknown, line: number) => void,
    onFailure: (error: Error) => void,
  ): Promise<Journal> {
    if (dataDir === undefined) return new Journal(null, onFailure);
    const path = join(dataDir, journalFileName);
    let stats: Stats | undefined;
    try {
      mkdirSync(dataDir, { recursive: true });
      stats = statSync(path, { throwIfNoEntry: false });
    } catch (error) {
      throw new JournalError(`cannot use data dir ${dataDir}: ${(error as Error).message}`);
    }
    let keepBytes = 0;
    if (stats) {
      const text = await readFile(path, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      keepBytes = Buffer.byteLength(text.slice(0, end));
      const lines = text.slice(0, end).split('\n');
      lines.pop();
      for (const [index, line] of lines.entries()) {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          throw new JournalError(`${path} line ${index + 1} is not JSON: the journal is damaged`);
        }
        replay(record, index + 1);
      }
    }
    const file = await open(path, stats ? 'r+' : 'a+');
    if (stats && stats.size > keepBytes) await file.truncate(keepBytes);
    await file.sync();
    if (!stats) await syncDir(dataDir);
    const journal = new Journal(file, onFailure);
    journal.writePosition = keepBytes;
    return journal;
  }

  get healthy(): boolean {
    return this.failure === null;
  }

  /** Appends a record; it is durable once every output gated after this call has run. */
  append(record: object): void {
    this.appended++;
    if (!this.file) {
      this.durable = this.appended;
      return;
    }
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.flushing ??= this.flush();
  }

  /** Runs `output` once everything appended so far is durable (at once when it already is). */
  gate(output: () => void): void {
    if (this.gated.length === 0 && this.durable === this.appended) output();
    else this.gated.push({ position: this.appended, run: output });
  }

  /** Resolves when everything appended so far is durable (or the journal failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.file?.close();
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failure) {
        const batch = this.pending.join('');
        const position = this.appended;
        this.pending = [];
        const bytes = Buffer.from(batch, 'utf8');
        await this.file!.write(bytes, 0, bytes.length, this.writePosition);
        this.writePosition += bytes.length;
        await this.file!.datasync();
        this.durable = position;
        this.release();
      }
    } catch (error) {
      this.failure = error as Error;
      this.gated.length = 0;
      this.onFailure(new JournalError(`journal write failed: ${(error as Error).message}`));
    } finally {
      this.flushing = null;
    }
  }

  private release(): void {
    let done = 0;
    while (done < this.gated.length && this.gated[done]!.position <= this.durable) done++;
    const ready = this.gated.splice(0, done);
    for (const output of ready) output.run();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
