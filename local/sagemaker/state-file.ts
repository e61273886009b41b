/**
 * The emulator's resources on disk, so they survive a restart of the local cloud as its DynamoDB
 * and S3 data do: a JSON snapshot written (atomically, by rename) whenever it changed.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A JSON file holding the latest snapshot of some state. */
export class StateFile<T> {
  private written: string | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** The saved snapshot, or `undefined` when there is none (a first start). */
  async load(): Promise<T | undefined> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    this.written = text;
    return JSON.parse(text) as T;
  }

  /** Saves a snapshot unless it equals the last one saved (saves happen one at a time, in order). */
  save(snapshot: T): Promise<void> {
    const text = JSON.stringify(snapshot);
    // A failed save (reported by its caller) does not stop the next ones.
    this.saving = this.saving.catch(() => undefined).then(async () => {
      if (text === this.written) return;
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(`${this.file}.tmp`, text);
      await rename(`${this.file}.tmp`, this.file);
      this.written = text;
    });
    return this.saving;
  }
}
