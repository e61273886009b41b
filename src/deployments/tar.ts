/**
 * A streaming writer of POSIX ustar archives (the `tar` format SageMaker unpacks model data
 * from), for the few entries of a serving package: regular files whose size is known before their
 * bytes stream through (their folders are created by whoever unpacks them, as tar does). No tar library is among the project's dependencies
 * (`tar-stream` would replace this module); the format is POSIX.1-1988 ustar: a 512-byte header
 * per entry, the data padded to 512 bytes, two zero blocks at the end.
 */

const BLOCK = 512;
/** Largest size the 11 octal digits of a ustar header hold (8 GiB − 1). */
export const MAX_ENTRY_BYTES = 8 * 1024 ** 3 - 1;

/** An archive entry: a file of `size` bytes read from `body`. */
export interface TarEntry {
  readonly path: string;
  readonly size: number;
  readonly body: AsyncIterable<Uint8Array> | Uint8Array;
}

/** Splits a path into ustar's `prefix` (≤ 155 bytes) and `name` (≤ 100 bytes) at a `/`. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let at = path.indexOf('/'); at >= 0; at = path.indexOf('/', at + 1)) {
    const prefix = path.slice(0, at);
    const name = path.slice(at + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  throw new Error(`path '${path}' is too long for a ustar archive`);
}

/** An octal field of `width` bytes: digits, then a NUL. */
function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

/** The 512-byte ustar header of a regular file (mode 0644, owner root). */
export function tarHeader(entry: TarEntry, mtimeSeconds: number): Buffer {
  const { name, prefix } = splitPath(entry.path);
  const { size } = entry;
  if (size > MAX_ENTRY_BYTES) throw new Error(`'${entry.path}' is ${size} bytes; a ustar entry holds at most ${MAX_ENTRY_BYTES}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, mtimeSeconds);
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  // The checksum is the sum of the header's bytes with its own field read as spaces.
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** Zero bytes that pad `size` bytes of data to a whole block. */
const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/**
 * The bytes of a ustar archive of `entries`, in order, streamed: a file's body passes through as
 * it is read (never held whole). Throws if a body yields more or fewer bytes than its `size`.
 */
export async function* tarStream(entries: readonly TarEntry[], mtimeSeconds: number): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    yield tarHeader(entry, mtimeSeconds);
    let written = 0;
    for await (const chunk of entry.body instanceof Uint8Array ? [entry.body] : entry.body) {
      written += chunk.byteLength;
      if (written > entry.size) throw new Error(`'${entry.path}' has more than the ${entry.size} bytes announced`);
      yield chunk;
    }
    if (written !== entry.size) throw new Error(`'${entry.path}' ended after ${written} of the ${entry.size} bytes announced`);
    yield padding(entry.size);
  }
  yield Buffer.alloc(2 * BLOCK);
}
