/**
 * Model archives read from the S3 emulator: the serving package the deployments function writes,
 * and one written by the system's tar (GNU tar: `./` entries, long names), extract file for file;
 * what is not a tar.gz, or holds entries that would leave the model folder (`..`, absolute paths,
 * links), fails with SageMaker's reason and writes nothing outside the folder.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { sha256Hex } from '../../src/aws/artifact-store.js';
import { writeServingPackage } from '../../src/deployments/triton-package.js';
import { extractModelArchive, ModelArchiveError } from './model-archive.js';

let env: TestEmulators;
let bucket: string;
let work: string;

beforeAll(async () => {
  env = await startTestEmulators();
  bucket = env.resources.bucketName;
  work = await mkdtemp(join(tmpdir(), 'model-archive-'));
});
afterAll(async () => {
  await env?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Stores `bytes` at `key` and returns its `s3://` URL. */
async function upload(key: string, bytes: Uint8Array): Promise<string> {
  await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  return `s3://${bucket}/${key}`;
}

/** A tar.gz of `entries` written by tar-stream (which writes what GNU tar would refuse to create). */
async function tarGz(entries: ReadonlyArray<Partial<Header> & Pick<Header, 'name'>>): Promise<Buffer> {
  const archive = tarPack();
  for (const header of entries) archive.entry(header, header.type === undefined || header.type === 'file' ? `${header.name}\n` : '');
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** The files under `dir`, by path, with their text. */
async function filesIn(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found[join(entry.parentPath, entry.name).slice(dir.length + 1)] = await readFile(join(entry.parentPath, entry.name), 'utf8');
  }
  return found;
}

describe('extractModelArchive', () => {
  it('extracts an archive written by the system’s tar, replacing what the folder held', async () => {
    // Prepare
    const source = join(work, 'source');
    const long = `resnet/1/${'w'.repeat(120)}.bin`;
    await mkdir(join(source, 'resnet', '1'), { recursive: true });
    await writeFile(join(source, 'resnet', 'config.pbtxt'), 'platform: "onnxruntime_onnx"');
    await writeFile(join(source, 'resnet', '1', 'model.onnx'), 'onnx');
    await writeFile(join(source, long), 'weights');
    const archive = join(work, 'system.tar.gz');
    await promisify(execFile)('tar', ['-czf', archive, '-C', source, '.']);
    const url = await upload('models/system/model.tar.gz', await readFile(archive));
    const into = join(work, 'system');
    await mkdir(into);
    await writeFile(join(into, 'stale.txt'), 'from an earlier archive');

    // Act
    await extractModelArchive(env.s3, url, into);

    // Assess
    expect(await filesIn(into)).toEqual({ 'resnet/config.pbtxt': 'platform: "onnxruntime_onnx"', 'resnet/1/model.onnx': 'onnx', [long]: 'weights' });
  });

  it('extracts the serving package the deployments function writes', async () => {
    // Prepare
    const artifact = Buffer.from('onnx bytes');
    const key = 'models/packaged/versions/artifact.onnx';
    await upload(key, artifact);
    const draft = draftVersion('packaged', { artifact: { uri: `s3://${bucket}/${key}`, bucket, key, sha256: sha256Hex(artifact), sizeBytes: artifact.byteLength } });
    const written = await writeServingPackage({ s3: env.s3, lakeBucket: bucket, scratchDir: join(work, 'scratch') }, { ...draft, version: 1, status: 'PENDING', createdAt: '2026-12-03T17:00:00.000Z' });
    const into = join(work, 'packaged');

    // Act
    await extractModelArchive(env.s3, written.uri, into);

    // Assess
    const files = await filesIn(into);
    expect(Object.keys(files).sort()).toEqual(['packaged/1/model.onnx', 'packaged/config.pbtxt']);
    expect(files['packaged/1/model.onnx']).toBe('onnx bytes');
    expect(files['packaged/config.pbtxt']).toContain('name: "packaged"\nplatform: "onnxruntime_onnx"\n');
  });

  it.each([
    ['a path with a .. step', tarGz([{ name: 'resnet/config.pbtxt' }, { name: 'resnet/../../escaped.txt' }])],
    ['an absolute path', tarGz([{ name: '/tmp/escaped.txt' }])],
    ['a symbolic link', tarGz([{ name: 'resnet/1', type: 'symlink', linkname: '/tmp' }])],
    ['a hard link', tarGz([{ name: 'resnet/config.pbtxt' }, { name: 'resnet/copy', type: 'link', linkname: '../escaped.txt' }])],
    ['a file that is not gzip', Promise.resolve(Buffer.from('resnet/config.pbtxt'))],
    ['gzip that is not tar', Promise.resolve(gzipSync('not a tar archive, only text that is long enough to fill a header block'.repeat(10)))],
  ])('refuses %s as a tar.gz it cannot extract, writing nothing outside the folder', async (what, archive) => {
    // Prepare
    const key = `models/${what.replaceAll(' ', '-')}/model.tar.gz`;
    const url = await upload(key, await archive);
    const into = join(work, `refused-${what.replaceAll(' ', '-')}`, 'model');

    // Act
    const error = await extractModelArchive(env.s3, url, into).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ModelArchiveError);
    expect((error as Error).message).toBe(`Failed to extract model data archive from URL "${url}". Please ensure that the model data is a valid tar.gz archive.`);
    expect(await readdir(join(into, '..'))).not.toContain('escaped.txt');
  });

  it('refuses a missing archive and a URL that is not s3://', async () => {
    // Act
    const missing = await extractModelArchive(env.s3, `s3://${bucket}/models/none/model.tar.gz`, join(work, 'none')).catch((e: unknown) => e);
    const notS3 = await extractModelArchive(env.s3, 'https://example.com/model.tar.gz', join(work, 'none')).catch((e: unknown) => e);

    // Assess
    expect(missing).toBeInstanceOf(ModelArchiveError);
    expect((missing as Error).message).toBe(
      `Failed to download model data(bucket: ${bucket}, key: models/none/model.tar.gz). Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.`,
    );
    expect((notS3 as Error).message).toBe('Could not parse the model data URL "https://example.com/model.tar.gz": expected s3://<bucket>/<key>.');
  });
});
