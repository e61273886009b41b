import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../aws/artifact-store.js';
import { DependencyUnavailableError, ModelVersionUnavailableError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import { ModelLoader } from './model-loader.js';
import { servingSessionOptions } from './onnx-session.js';

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
let iris: Buffer;

const versionOf = (version: number, bytes: Buffer, key = 'models/iris.onnx'): ModelVersion =>
  ({
    model: 'iris',
    version,
    artifact: {
      uri: `s3://lake/${key}`,
      bucket: 'lake',
      key,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sizeBytes: bytes.length,
    },
  }) as ModelVersion;

// The SDK's streaming body, reduced to the one method the artifact store reads.
const body = (bytes: Buffer) => ({ transformToByteArray: async () => new Uint8Array(bytes) }) as never;

beforeAll(async () => {
  iris = await readFile('models/iris.onnx');
});
beforeEach(() => s3.reset());

const newLoader = async (dir?: string) =>
  new ModelLoader(new ArtifactStore(s3Client), dir ?? (await mkdtemp(join(tmpdir(), 'cache-'))), servingSessionOptions(1769));

describe('ModelLoader', () => {
  it('fetches once, verifies, caches on disk and keeps one session per version', async () => {
    // Prepare
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(iris) }));
    const dir = await mkdtemp(join(tmpdir(), 'cache-'));
    const loader = await newLoader(dir);
    // Act
    const [a, b] = await Promise.all([loader.load(versionOf(1, iris)), loader.load(versionOf(1, iris))]);
    const c = await loader.load(versionOf(1, iris));
    // Assess
    expect(a.session).toBe(b.session);
    expect(c.session).toBe(a.session);
    expect(loader.size).toBe(1);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(await readdir(dir)).toEqual([`${versionOf(1, iris).artifact.sha256}.onnx`]);
    expect([...a.inputs.keys()]).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  });

  it('reuses a verified file from the disk cache in a new container without S3', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(iris) }));
    const dir = await mkdtemp(join(tmpdir(), 'cache-'));
    await (await newLoader(dir)).load(versionOf(1, iris));
    s3.reset();
    s3.on(GetObjectCommand).rejects(new Error('S3 must not be called'));
    const loaded = await (await newLoader(dir)).load(versionOf(1, iris));
    expect(loaded.version.version).toBe(1);
  });

  it('refuses a version whose bytes no longer match, and keeps serving the others', async () => {
    // Prepare: version 2 was registered with different bytes than S3 now holds.
    const tampered = Buffer.concat([iris, Buffer.from([0])]);
    s3.on(GetObjectCommand, { Key: 'models/v2.onnx' }).callsFake(() => ({ Body: body(iris) }));
    s3.on(GetObjectCommand, { Key: 'models/iris.onnx' }).callsFake(() => ({ Body: body(iris) }));
    const loader = await newLoader();
    // Act
    const broken = loader.load(versionOf(2, tampered, 'models/v2.onnx'));
    // Assess
    await expect(broken).rejects.toThrowError(ModelVersionUnavailableError);
    await expect(loader.load(versionOf(2, tampered, 'models/v2.onnx'))).rejects.toThrowError(
      "model 'iris' version 2 cannot be served: artifact integrity check failed",
    );
    expect((await loader.load(versionOf(1, iris))).version.version).toBe(1);
  });

  it('reports a missing artifact as that version being unavailable', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    await expect((await newLoader()).load(versionOf(1, iris))).rejects.toThrowError("model 'iris' version 1 cannot be served: its artifact is missing");
  });

  it('serves from memory when the disk cache cannot be written', async () => {
    // Prepare: the cache "directory" is a file, so every write fails as on a full /tmp.
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(iris) }));
    const notADirectory = join(await mkdtemp(join(tmpdir(), 'cache-')), 'file');
    await writeFile(notADirectory, 'x');
    // Act
    const loaded = await (await newLoader(notADirectory)).load(versionOf(1, iris));
    // Assess
    expect([...loaded.inputs.keys()]).toHaveLength(4);
  });

  it('turns S3 throttling into a 503 and retries on the next request', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejectsOnce(Object.assign(new Error('slow'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }));
    const loader = await newLoader();
    // Act + Assess
    await expect(loader.load(versionOf(1, iris))).rejects.toThrowError(DependencyUnavailableError);
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(iris) }));
    expect((await loader.load(versionOf(1, iris))).version.version).toBe(1);
  });
});
