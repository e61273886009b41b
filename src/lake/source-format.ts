/**
 * What a dropped file is: CSV, JSON Lines or Parquet, gzip-compressed or not. Decided
 * from its first bytes (a PNG named `.csv` is still a PNG) and, for text, its name.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InvalidDataError } from './errors.js';

/** Data formats the lake ingests. */
export type SourceFormat = 'csv' | 'jsonl' | 'parquet';

/** A dropped file's format and compression. */
export interface SourceKind {
  readonly format: SourceFormat;
  readonly gzip: boolean;
}

/** File signatures of common non-data files, so the reason can name what was dropped. */
const SIGNATURES: readonly { readonly name: string; readonly bytes: readonly number[] }[] = [
  { name: 'a PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: 'a JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'a GIF image', bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: 'a PDF document', bytes: [0x25, 0x50, 0x44, 0x46] },
  { name: 'a ZIP archive (or an Excel/Office file)', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'a bzip2 archive', bytes: [0x42, 0x5a, 0x68] },
  { name: 'a zstd archive', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'a 7z archive', bytes: [0x37, 0x7a, 0xbc, 0xaf] },
  { name: 'an executable (ELF)', bytes: [0x7f, 0x45, 0x4c, 0x46] },
];
const GZIP = [0x1f, 0x8b];
const PARQUET = [0x50, 0x41, 0x52, 0x31];
const UTF16_BOMS = [
  [0xff, 0xfe],
  [0xfe, 0xff],
];

const startsWith = (head: Uint8Array, bytes: readonly number[]) => bytes.every((b, i) => head[i] === b);

const JSONL_EXTENSIONS = /\.(jsonl|ndjson|json)$/i;
const PARQUET_EXTENSION = /\.parquet$/i;

async function readHead(path: string, bytes: number): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const buffer = new Uint8Array(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** A prefix of a file's text, and whether it is the whole file. */
export interface TextSample {
  readonly text: string;
  readonly complete: boolean;
  /**
   * Whether some bytes are not UTF-8: they are decoded as U+FFFD, and their lines are rejected by
   * the engine (`invalid encoding`), so they must not count in what the sample infers.
   */
  readonly invalidUtf8: boolean;
}

/**
 * Reads up to `maxBytes` of a text file (decompressing gzip), cut after its last line
 * break unless the whole file fits.
 *
 * @throws InvalidDataError for a corrupt gzip stream.
 */
export async function readTextSample(path: string, gzip: boolean, maxBytes: number): Promise<TextSample> {
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  const file = createReadStream(path, gzip ? {} : { end: maxBytes });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        complete = false;
        break;
      }
    }
  } catch (error) {
    throw new InvalidDataError(`the file is not valid gzip: ${(error as Error).message}`);
  } finally {
    // Destroying the gunzip does not close the file it reads from.
    stream.destroy();
    file.destroy();
  }
  let bytes = Buffer.concat(chunks).subarray(0, Math.min(size, maxBytes));
  if (!complete) {
    const cut = bytes.lastIndexOf(0x0a);
    bytes = cut < 0 ? bytes : bytes.subarray(0, cut + 1);
  }
  return { text: new TextDecoder('utf-8').decode(bytes), complete, invalidUtf8: !isUtf8(bytes) };
}

/**
 * Decides what a staged file is.
 *
 * @param path - The staged copy of the object.
 * @param key - The object key (its extension picks JSON Lines over CSV).
 * @param sizeBytes - The object's size.
 * @throws InvalidDataError for an empty file or one that is not CSV, JSON Lines or Parquet.
 */
export async function detectSourceKind(path: string, key: string, sizeBytes: number): Promise<SourceKind> {
  if (sizeBytes === 0) throw new InvalidDataError('the file is empty (0 bytes)');
  const head = await readHead(path, 4096);
  const known = SIGNATURES.find((s) => startsWith(head, s.bytes));
  if (known !== undefined) throw new InvalidDataError(`the file is ${known.name}, not CSV, JSON Lines or Parquet`);
  if (startsWith(head, PARQUET)) return { format: 'parquet', gzip: false };
  if (PARQUET_EXTENSION.test(key)) throw new InvalidDataError("the file is named .parquet but does not start with Parquet's 'PAR1' magic bytes");
  const gzip = startsWith(head, GZIP);
  const name = gzip ? key.replace(/\.gz$/i, '') : key;
  const textHead = gzip ? new TextEncoder().encode((await readTextSample(path, true, 4096)).text) : head;
  if (UTF16_BOMS.some((bom) => startsWith(textHead, bom))) {
    throw new InvalidDataError('the file is UTF-16 text; save it as UTF-8');
  }
  if (textHead.includes(0)) throw new InvalidDataError('the file is binary (it contains NUL bytes), not CSV, JSON Lines or Parquet');
  return { format: JSONL_EXTENSIONS.test(name) ? 'jsonl' : 'csv', gzip };
}
