import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidDataError } from './errors.js';
import { detectSourceKind, readTextSample } from './source-format.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lake-format-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a file into the test folder and returns its path and size. */
async function file(name: string, content: string | Uint8Array): Promise<{ path: string; size: number }> {
  const path = join(dir, name);
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  await writeFile(path, bytes);
  return { path, size: bytes.length };
}

/** Detects a file written with `content` under the object key `key`. */
async function detect(key: string, content: string | Uint8Array) {
  const { path, size } = await file(key.split('/').at(-1) ?? 'f', content);
  return detectSourceKind(path, key, size);
}

const bytes = (...values: number[]) => new Uint8Array([...values, ...Buffer.from(' some more bytes\n')]);

describe('detectSourceKind', () => {
  it('reads CSV by default and JSON Lines by extension', async () => {
    // Act / Assess
    expect(await detect('raw/d/a.csv', 'a,b\n1,2\n')).toEqual({ format: 'csv', gzip: false });
    expect(await detect('raw/d/a.txt', 'a,b\n1,2\n')).toEqual({ format: 'csv', gzip: false });
    expect(await detect('raw/d/noext', 'a,b\n1,2\n')).toEqual({ format: 'csv', gzip: false });
    expect(await detect('raw/d/a.jsonl', '{"a":1}\n')).toEqual({ format: 'jsonl', gzip: false });
    expect(await detect('raw/d/a.NDJSON', '{"a":1}\n')).toEqual({ format: 'jsonl', gzip: false });
    expect(await detect('raw/d/a.json', '{"a":1}\n')).toEqual({ format: 'jsonl', gzip: false });
  });

  it('accepts UTF-8 text with a byte-order mark', async () => {
    // Act / Assess
    expect(await detect('raw/d/bom.csv', '\uFEFFa,b\n1,2\n')).toEqual({ format: 'csv', gzip: false });
  });

  it('fails an empty file', async () => {
    // Prepare
    const { path } = await file('empty.csv', '');
    // Act / Assess
    await expect(detectSourceKind(path, 'raw/d/empty.csv', 0)).rejects.toThrowError(new InvalidDataError('the file is empty (0 bytes)'));
  });

  it('names the kind of a known non-data file, whatever its name', async () => {
    // Act / Assess
    await expect(detect('raw/d/photo.csv', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).rejects.toThrowError(
      'the file is a PNG image, not CSV, JSON Lines or Parquet',
    );
    await expect(detect('raw/d/a.jpg.csv', bytes(0xff, 0xd8, 0xff, 0xe0))).rejects.toThrowError('the file is a JPEG image, not CSV, JSON Lines or Parquet');
    await expect(detect('raw/d/report.csv', '%PDF-1.7\n%âãÏÓ\n')).rejects.toThrowError('the file is a PDF document, not CSV, JSON Lines or Parquet');
    await expect(detect('raw/d/book.xlsx', bytes(0x50, 0x4b, 0x03, 0x04))).rejects.toThrowError(
      'the file is a ZIP archive (or an Excel/Office file), not CSV, JSON Lines or Parquet',
    );
    await expect(detect('raw/d/a.csv.bz2', 'BZh91AY&SY')).rejects.toThrowError('the file is a bzip2 archive');
  });

  it('fails with InvalidDataError so the version is FAILED, not retried', async () => {
    // Act
    const error = await detect('raw/d/photo.csv', bytes(0x89, 0x50, 0x4e, 0x47)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(InvalidDataError);
  });

  it('reads gzip-compressed CSV and JSON Lines, telling them apart by the name without .gz', async () => {
    // Act / Assess
    expect(await detect('raw/d/a.csv.gz', gzipSync('a,b\n1,2\n'))).toEqual({ format: 'csv', gzip: true });
    expect(await detect('raw/d/a.jsonl.gz', gzipSync('{"a":1}\n'))).toEqual({ format: 'jsonl', gzip: true });
    expect(await detect('raw/d/a.JSONL.GZ', gzipSync('{"a":1}\n'))).toEqual({ format: 'jsonl', gzip: true });
    expect(await detect('raw/d/a.gz', gzipSync('a,b\n1,2\n'))).toEqual({ format: 'csv', gzip: true });
  });

  it('detects gzip by its bytes, not its name', async () => {
    // Act / Assess
    expect(await detect('raw/d/a.jsonl', gzipSync('{"a":1}\n'))).toEqual({ format: 'jsonl', gzip: true });
  });

  it('looks inside a gzip file larger than the sniffed head', async () => {
    // Prepare
    const text = 'a,b\n' + '1,2\n'.repeat(100_000);
    // Act / Assess
    expect(await detect('raw/d/big.csv.gz', gzipSync(text))).toEqual({ format: 'csv', gzip: true });
  });

  it('reads Parquet by its magic bytes, whatever the name', async () => {
    // Act / Assess
    expect(await detect('raw/d/data.parquet', bytes(0x50, 0x41, 0x52, 0x31))).toEqual({ format: 'parquet', gzip: false });
    expect(await detect('raw/d/data.csv', bytes(0x50, 0x41, 0x52, 0x31))).toEqual({ format: 'parquet', gzip: false });
  });

  it('fails a .parquet file without the Parquet magic', async () => {
    // Act / Assess
    await expect(detect('raw/d/data.parquet', 'a,b\n1,2\n')).rejects.toThrowError(
      "the file is named .parquet but does not start with Parquet's 'PAR1' magic bytes",
    );
  });

  it('fails UTF-16 text, little- or big-endian, asking for UTF-8', async () => {
    // Prepare
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    // Act / Assess
    await expect(detect('raw/d/le.csv', le)).rejects.toThrowError('the file is UTF-16 text; save it as UTF-8');
    await expect(detect('raw/d/be.csv', be)).rejects.toThrowError('the file is UTF-16 text; save it as UTF-8');
  });

  it('fails a file with NUL bytes as binary, also inside gzip', async () => {
    // Prepare
    const binary = Buffer.from('a,b\n1,\u00002\n', 'latin1');
    // Act / Assess
    await expect(detect('raw/d/bin.csv', binary)).rejects.toThrowError('the file is binary (it contains NUL bytes), not CSV, JSON Lines or Parquet');
    await expect(detect('raw/d/bin.csv.gz', gzipSync(binary))).rejects.toThrowError(/binary \(it contains NUL bytes\)/);
  });

  it('fails a corrupt gzip file', async () => {
    // Prepare
    const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('definitely not deflate data')]);
    // Act
    const error = await detect('raw/d/a.csv.gz', corrupt).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(InvalidDataError);
    expect((error as Error).message).toMatch(/^the file is not valid gzip: /);
  });
});

describe('readTextSample', () => {
  it('reads a whole small file as complete', async () => {
    // Prepare
    const { path } = await file('a.csv', 'a,b\n1,2\n3,4');
    // Act
    const sample = await readTextSample(path, false, 1024);
    // Assess
    expect(sample).toEqual({ text: 'a,b\n1,2\n3,4', complete: true, invalidUtf8: false });
  });

  it('reads a file of exactly maxBytes as complete', async () => {
    // Prepare
    const { path, size } = await file('a.csv', 'a,b\n1,2\n');
    // Act
    const sample = await readTextSample(path, false, size);
    // Assess
    expect(sample).toEqual({ text: 'a,b\n1,2\n', complete: true, invalidUtf8: false });
  });

  it('cuts a longer file after its last line break within maxBytes', async () => {
    // Prepare: 'a,b\n' (4) '10,20\n' (6) '30,40\n' … : 12 bytes cut inside the third line
    const { path } = await file('a.csv', 'a,b\n10,20\n30,40\n50,60\n');
    // Act
    const sample = await readTextSample(path, false, 12);
    // Assess
    expect(sample).toEqual({ text: 'a,b\n10,20\n', complete: false, invalidUtf8: false });
  });

  it('keeps the cut text when no line break falls within maxBytes', async () => {
    // Prepare
    const { path } = await file('a.csv', 'abcdefghij\nk\n');
    // Act
    const sample = await readTextSample(path, false, 4);
    // Assess
    expect(sample).toEqual({ text: 'abcd', complete: false, invalidUtf8: false });
  });

  it('decompresses gzip, complete or cut', async () => {
    // Prepare
    const text = 'n\n' + Array.from({ length: 5000 }, (_, i) => `${i}\n`).join('');
    const { path } = await file('a.csv.gz', gzipSync(text));
    // Act
    const whole = await readTextSample(path, true, 1 << 20);
    const cut = await readTextSample(path, true, 100);
    // Assess
    expect(whole).toEqual({ text, complete: true, invalidUtf8: false });
    expect(cut.complete).toBe(false);
    expect(cut.text.length).toBeLessThanOrEqual(100);
    expect(cut.text.endsWith('\n')).toBe(true);
    expect(text.startsWith(cut.text)).toBe(true);
    expect(text.slice(0, 101).lastIndexOf('\n')).toBe(cut.text.length - 1);
  });

  it('does not split a multi-byte character at the cut', async () => {
    // Prepare
    const { path } = await file('a.csv', 'name\nMüller\nZoë\n');
    // Act: 7 bytes end inside 'ü'
    const sample = await readTextSample(path, false, 7);
    // Assess
    expect(sample).toEqual({ text: 'name\n', complete: false, invalidUtf8: false });
  });

  it('says when the sample has bytes that are not UTF-8', async () => {
    // Prepare
    const { path } = await file('a.csv', Buffer.concat([Buffer.from('a\n'), Buffer.from([0xff]), Buffer.from('\n')]));
    // Act
    const sample = await readTextSample(path, false, 1 << 20);
    // Assess
    expect(sample).toEqual({ text: 'a\n\uFFFD\n', complete: true, invalidUtf8: true });
  });

  it('fails a corrupt or truncated gzip stream with InvalidDataError', async () => {
    // Prepare
    const corrupt = await file('bad.gz', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('garbage garbage garbage')]));
    const whole = gzipSync('a,b\n' + '1,2\n'.repeat(1000));
    const truncated = await file('cut.gz', whole.subarray(0, whole.length - 20));
    // Act
    const errors = await Promise.all([corrupt, truncated].map(({ path }) => readTextSample(path, true, 1 << 20).catch((e: unknown) => e)));
    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(InvalidDataError);
      expect((error as Error).message).toMatch(/^the file is not valid gzip: /);
    }
  });
});
