/**
 * Serving packages on the S3 emulator (s3rver): the model repository Triton reads, checked by
 * unpacking it with the system's `tar` (an independent reader of the format); deterministic bytes;
 * and an artifact whose bytes changed or disappeared.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftVersion } from '../../test/support/model-versions.js';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { sha256Hex } from '../aws/artifact-store.js';
import { UnusableArtifactError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import { servingPackageKey, servingPackageOf, writeServingPackage, type PackagerDeps } from './triton-package.js';

const run = promisify(execFile);
let env: TestEmulators;
let deps: PackagerDeps;
let work: string;

beforeAll(async () => {
  env = await startTestEmulators();
  work = await mkdtemp(join(tmpdir(), 'serving-package-'));
  deps = { s3: env.s3, lakeBucket: env.resources.bucketName, scratchDir: join(work, 'scratch') };
});
afterAll(async () => {
  await env?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A registered version whose artifact is `bytes`, stored in the lake. */
async function versionWith(model: string, bytes: Uint8Array): Promise<ModelVersion> {
  const key = `models/${model}/versions/artifact.onnx`;
  await env.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: key, Body: bytes }));
  const draft = draftVersion(model, {
    artifact: { uri: `s3://${deps.lakeBucket}/${key}`, bucket: deps.lakeBucket, key, sha256: sha256Hex(bytes), sizeBytes: bytes.byteLength },
    signature: { inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 3, 32, 32] }], outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }] },
  });
  return { ...draft, version: 3, status: 'PENDING', createdAt: '2026-12-03T17:00:00.000Z' };
}

/** Unpacks a package object with the system's tar: the files it holds, by path, and tar's verbose listing. */
async function unpacked(key: string): Promise<{ files: Map<string, Buffer>; listing: string }> {
  const object = await env.s3.send(new GetObjectCommand({ Bucket: deps.lakeBucket, Key: key }));
  const archive = join(work, `${Math.random()}.tar.gz`);
  const into = await mkdtemp(join(work, 'unpacked-'));
  await writeFile(archive, await object.Body!.transformToByteArray());
  await run('tar', ['-xzf', archive, '-C', into]);
  const { stdout } = await run('tar', ['-tzvf', archive]);
  const files = new Map<string, Buffer>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else files.set(`${prefix}${entry.name}`, await readFile(join(dir, entry.name)));
    }
  };
  await walk(into, '');
  return { files, listing: stdout };
}

describe('serving packages', () => {
  it('writes <model>/config.pbtxt and <model>/1/model.onnx as model.tar.gz under the version’s key, bytes intact', async () => {
    // Prepare: a model larger than the stream's chunks, of a size that is no multiple of 512.
    const model = randomBytes(3 * 1024 * 1024 + 77);
    const version = await versionWith('resnet.small', model);

    // Act
    const written = await writeServingPackage(deps, version);

    // Assess
    expect(servingPackageOf(deps, version)).toEqual(written);
    expect(written).toEqual({
      bucket: deps.lakeBucket,
      key: 'models/resnet.small/serving/v3/model.tar.gz',
      uri: `s3://${deps.lakeBucket}/models/resnet.small/serving/v3/model.tar.gz`,
      tritonModelName: 'resnet.small',
    });
    const { files, listing } = await unpacked(written.key);
    expect([...files.keys()].sort()).toEqual(['resnet.small/1/model.onnx', 'resnet.small/config.pbtxt']);
    expect(sha256Hex(files.get('resnet.small/1/model.onnx')!)).toBe(sha256Hex(model));
    const config = files.get('resnet.small/config.pbtxt')!.toString();
    expect(config).toContain('name: "resnet.small"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 0\n');
    expect(config).toContain('    name: "image"\n    data_type: TYPE_FP32\n    dims: [ -1, 3, 32, 32 ]\n');
    expect(listing).toMatch(/^-rw-r--r-- root\/root +\d+ 2026-12-03 \d\d:00 resnet\.small\/config\.pbtxt\n/);
    expect(await readdir(deps.scratchDir)).toEqual([]);
  });

  it('keeps paths of long model names (ustar prefix), and writes the same bytes when a package is written again', async () => {
    // Prepare
    const name = `m${'x'.repeat(120)}`;
    const version = await versionWith(name, randomBytes(1000));
    const first = await writeServingPackage(deps, version);
    const written = await env.s3.send(new HeadObjectCommand({ Bucket: deps.lakeBucket, Key: first.key }));

    // Act
    const second = await writeServingPackage(deps, version);

    // Assess
    expect(second).toEqual(first);
    expect((await env.s3.send(new HeadObjectCommand({ Bucket: deps.lakeBucket, Key: first.key }))).ETag).toBe(written.ETag);
    expect([...(await unpacked(first.key)).files.keys()]).toContain(`${name}/1/model.onnx`);
  });

  it('refuses an artifact whose bytes are not the version’s, or that is gone, and uploads nothing', async () => {
    // Prepare
    const changed = await versionWith('changed', randomBytes(2000));
    await env.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: changed.artifact.key, Body: randomBytes(2000) }));
    const gone = await versionWith('gone', randomBytes(10));
    await env.s3.send(new DeleteObjectCommand({ Bucket: deps.lakeBucket, Key: gone.artifact.key }));

    // Act
    const mismatch = await writeServingPackage(deps, changed).catch((error: unknown) => error);
    const missing = await writeServingPackage(deps, gone).catch((error: unknown) => error);

    // Assess
    expect(mismatch).toBeInstanceOf(UnusableArtifactError);
    expect((mismatch as Error).message).toMatch(/^the artifact of version 3 of model 'changed' hashes to [0-9a-f]{64}, not the/);
    expect(missing).toBeInstanceOf(UnusableArtifactError);
    expect((missing as Error).message).toBe("the artifact of version 3 of model 'gone' is gone from the lake");
    const head = await env.s3.send(new HeadObjectCommand({ Bucket: deps.lakeBucket, Key: servingPackageKey('changed', 3) })).catch((error: unknown) => error);
    expect(head).toMatchObject({ name: 'NotFound' });
    expect(await readdir(deps.scratchDir)).toEqual([]);
  });
});
