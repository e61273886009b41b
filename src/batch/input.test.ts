import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { planInput, readChunk } from './input.js';
import { InvalidRequestError } from '../errors.js';
import { InputChangedError } from './pinned-object.js';

let env: TestEmulators;

/** A Parquet file of `rows` rows: `id` (text) and `x` (numbers). */
const parquet = (rows: number, prefix: string) =>
  new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Array.from({ length: rows }, (_, i) => `${prefix}${i}`), type: 'STRING' },
        { name: 'x', data: Array.from({ length: rows }, (_, i) => i), type: 'DOUBLE' },
      ],
    }),
  );
const put = (key: string, body: Uint8Array) => env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: body }));

beforeAll(async () => {
  env = await startTestEmulators();
});
afterAll(async () => env.stop());

describe('readChunk on s3rver', () => {
  it('reads a Parquet chunk of the object planned, and refuses one overwritten since with InputChangedError', async () => {
    // Prepare
    await put('raw/d/in.parquet', parquet(300, 'a'));
    const plan = await planInput(env.s3, env.resources.bucketName, 'raw/d/in.parquet', 100);
    const before = await readChunk(env.s3, env.resources.bucketName, plan.object, plan.chunks[1]!, undefined);
    await put('raw/d/in.parquet', parquet(300, 'z'));

    // Act
    const after = readChunk(env.s3, env.resources.bucketName, plan.object, plan.chunks[2]!, undefined);

    // Assess
    expect(before.columns.get('id')?.[0]).toBe('a100');
    await expect(after).rejects.toThrow(InputChangedError);
    await expect(after).rejects.toThrow(`input 'raw/d/in.parquet' changed after the job was planned (ETag ${plan.object.etag} then, "`);
  });
});

describe('readChunk of corrupt Parquet pages', () => {
  it('refuses rows whose pages do not decode (the footer intact): a refusal, which a redelivery would meet again', async () => {
    // Prepare: the data pages overwritten, the footer (its length and magic at the end) kept.
    const bytes = parquet(300, 'c');
    const footer = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
    bytes.fill(0xff, 8, bytes.length - footer - 8);
    await put('raw/d/corrupt.parquet', bytes);
    const plan = await planInput(env.s3, env.resources.bucketName, 'raw/d/corrupt.parquet', 100);

    // Act
    const read = readChunk(env.s3, env.resources.bucketName, plan.object, plan.chunks[0]!, undefined);

    // Assess
    await expect(read).rejects.toThrow(InvalidRequestError);
    await expect(read).rejects.toThrow("rows 1-100 of input 'raw/d/corrupt.parquet' are not readable Parquet: ");
  });
});
