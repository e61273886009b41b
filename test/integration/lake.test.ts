/**
 * The data lake end to end on the local cloud: files dropped into the local S3 reach the ingest
 * function through real bucket notifications and the SQS queue, and come out as dataset
 * versions visible through the dataset API. One dataset per case keeps the cases apart.
 */
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { DatasetVersion } from '../../src/lake/types.js';
import { lakeApi } from '../support/lake-api.js';

let cloud: LocalCloud;
let lake: ReturnType<typeof lakeApi>;

const IRIS = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
4.9,3.0,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor
6.4,3.2,4.5,1.5,versicolor
6.3,3.3,6.0,2.5,virginica
5.8,2.7,5.1,1.9,virginica
`;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

interface RejectedRow {
  readonly line?: number;
  readonly row?: number;
  readonly errors?: string[];
  readonly reasons: string[];
  readonly raw: string;
}

beforeAll(async () => {
  cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'lake-cloud-')), port: 0 });
  lake = lakeApi(cloud);
});
afterAll(async () => {
  lake?.s3.destroy();
  await cloud?.stop();
});

/** Drops a file into a fresh dataset and waits for its one version. */
async function ingest(dataset: string, fileName: string, body: string | Uint8Array): Promise<DatasetVersion> {
  await lake.drop(`raw/${dataset}/${fileName}`, body);
  const [version] = await lake.finishedVersions(dataset);
  return version!;
}

/** Polls until version `version` of the dataset has recorded `count` duplicate drops. */
async function duplicateDropsOf(dataset: string, version: number, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await lake.versions(dataset)).find((v) => v.version === version)?.duplicateDrops !== count) {
    if (Date.now() > deadline) throw new Error(`version ${version} of '${dataset}' has not recorded ${count} duplicate drops after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function rejectedRows(version: DatasetVersion): Promise<RejectedRow[]> {
  expect(version.rejectedKey).toBe(`rejected/${version.dataset}/v=${version.version}/rejected.jsonl`);
  const text = new TextDecoder().decode(await lake.read(version.rejectedKey!));
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RejectedRow);
}

describe('a CSV dropped into the local lake', () => {
  it('becomes a READY dataset version with schema, statistics, curated Parquet and a preview, and the raw file is untouched', async () => {
    // Act
    const eTag = await lake.drop('raw/iris/iris.csv', IRIS);
    const [version] = await lake.finishedVersions('iris');

    // Assess
    expect(version).toMatchObject({
      dataset: 'iris',
      version: 1,
      status: 'READY',
      format: 'csv',
      rowsRead: 6,
      rowsAccepted: 6,
      rowsRejected: 0,
      source: { bucket: lake.bucket, key: 'raw/iris/iris.csv', eTag },
      curatedKeys: ['curated/iris/v=1/part-00000.parquet'],
    });
    expect(version?.schema).toEqual({
      inferred: true,
      columns: [
        { name: 'sepal_length', type: 'float', nullable: false },
        { name: 'sepal_width', type: 'float', nullable: false },
        { name: 'petal_length', type: 'float', nullable: false },
        { name: 'petal_width', type: 'float', nullable: false },
        { name: 'species', type: 'string', nullable: false },
      ],
    });
    const stats = new Map(version?.statistics?.map((s) => [s.name, s]));
    expect(stats.get('sepal_length')).toMatchObject({ nulls: 0, min: 4.9, max: 7.0 });
    expect(stats.get('sepal_length')?.mean).toBeCloseTo(35.5 / 6, 9);
    expect(stats.get('species')).toMatchObject({ distinct: 3, top: [{ value: 'setosa', count: 2 }, { value: 'versicolor', count: 2 }, { value: 'virginica', count: 2 }] });
    const preview = await lake.request<{ rows: Record<string, unknown>[] }>('GET', '/datasets/iris/versions/1/preview?limit=2');
    expect(preview.status).toBe(200);
    expect(preview.body.rows).toEqual([
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2, species: 'setosa' },
      { sepal_length: 4.9, sepal_width: 3.0, petal_length: 1.4, petal_width: 0.2, species: 'setosa' },
    ]);
    expect(new TextDecoder().decode(await lake.read('raw/iris/iris.csv'))).toBe(IRIS);
    const latest = await lake.request<DatasetVersion>('GET', '/datasets/iris/versions/latest');
    expect(latest.body.version).toBe(1);
  });

  it('keeps NaN in a float column, counts it in the statistics and previews it as "NaN"; rejects infinities', async () => {
    // Prepare: the review's file: NaN, an overflowing exponent and an infinity among 18 finite values.
    const finite = Array.from({ length: 18 }, (_, i) => `${i + 4},${i + 0.5}`);
    const body = ['n,v', '3,NaN', '1,1e309', '2,inf', ...finite].join('\n');

    // Act
    const version = await ingest('nan-floats', 'f.csv', body);
    const preview = await lake.request<{ rows: Record<string, unknown>[] }>('GET', '/datasets/nan-floats/versions/1/preview?limit=2');

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: 19, rowsRejected: 2 });
    expect(version.statistics?.find((s) => s.name === 'v')).toMatchObject({ nullable: false, nulls: 0, nans: 1, min: 0.5, max: 17.5, mean: 9 });
    expect(preview.body.rows).toEqual([
      { n: 3, v: 'NaN' },
      { n: 4, v: 0.5 },
    ]);
  });

  it('creates an unknown dataset on the fly with the default rules', async () => {
    // Act
    await ingest('on-the-fly', 'data.csv', IRIS);
    const definition = await lake.request('GET', '/datasets/on-the-fly');

    // Assess
    expect(definition.status).toBe(200);
    expect(definition.body).toMatchObject({ name: 'on-the-fly', rejectThreshold: 0.1, revision: 1 });
  });

  it('reads gzip-compressed CSV, semicolon-delimited with quotes, and JSON Lines', async () => {
    // Act
    const gz = await ingest('gzipped', 'iris.csv.gz', gzipSync(IRIS));
    const semi = await ingest('semicolons', 'data.csv', 'id;name;score\n1;"a;b";1.5\n2;"say ""hi""";2\n');
    const jsonl = await ingest('json-lines', 'events.jsonl', '{"id":1,"ok":true,"at":"2024-01-02T03:04:05Z"}\n{"id":2,"ok":false,"at":"2024-01-03T00:00:00Z"}\n');

    // Assess
    expect(gz).toMatchObject({ status: 'READY', format: 'csv', gzip: true, rowsAccepted: 6 });
    expect(semi).toMatchObject({ status: 'READY', rowsAccepted: 2 });
    const semiRows = await lake.request<{ rows: unknown[] }>('GET', '/datasets/semicolons/versions/1/preview');
    expect(semiRows.body.rows).toEqual([
      { id: 1, name: 'a;b', score: 1.5 },
      { id: 2, name: 'say "hi"', score: 2 },
    ]);
    expect(jsonl).toMatchObject({ status: 'READY', format: 'jsonl', rowsAccepted: 2 });
    expect(jsonl.schema?.columns.map((c) => c.type)).toEqual(['integer', 'boolean', 'timestamp']);
  });

  it('reads Parquet (here, the curated output of another version)', async () => {
    // Prepare
    const [iris] = await lake.finishedVersions('iris');
    const parquet = await lake.read(iris!.curatedKeys![0]!);

    // Act
    const version = await ingest('from-parquet', 'iris.parquet', parquet);

    // Assess
    expect(version).toMatchObject({ status: 'READY', format: 'parquet', rowsAccepted: 6 });
    expect(version.schema?.columns.map((c) => c.type)).toEqual(['float', 'float', 'float', 'float', 'string']);
  });

  it('keeps an object key with spaces and unicode exactly', async () => {
    // Act
    const version = await ingest('unicode', 'my data ü 東京 (1).csv', IRIS);

    // Assess
    expect(version.status).toBe('READY');
    expect(version.source.key).toBe('raw/unicode/my data ü 東京 (1).csv');
  });
});

describe('bad input to the local lake', () => {
  it.each([
    ['an empty file', 'empty.csv', '', 'the file is empty (0 bytes)'],
    ['a header only', 'header.csv', 'a,b,c\n', 'the file has a header (a, b, c) but no data rows'],
    ['a PNG named .csv', 'picture.csv', PNG, 'the file is a PNG image, not CSV, JSON Lines or Parquet'],
  ])('records %s as a FAILED version with the reason', async (_case, fileName, body, reason) => {
    // Act
    const dataset = `bad-${fileName.replace('.csv', '')}`;
    const version = await ingest(dataset, fileName, body);

    // Assess
    expect(version).toMatchObject({ status: 'FAILED', reason, rowsRead: 0 });
    expect(await lake.read(`raw/${dataset}/${fileName}`)).toEqual(typeof body === 'string' ? new TextEncoder().encode(body) : body);
  });

  it('records a zero-byte multipart upload as a FAILED version', async () => {
    // Prepare
    const key = 'raw/multipart/empty.csv';
    const upload = await lake.s3.send(new CreateMultipartUploadCommand({ Bucket: lake.bucket, Key: key }));
    const part = await lake.s3.send(new UploadPartCommand({ Bucket: lake.bucket, Key: key, UploadId: upload.UploadId, PartNumber: 1, Body: new Uint8Array() }));

    // Act
    await lake.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: lake.bucket, Key: key, UploadId: upload.UploadId, MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] } }),
    );
    const [version] = await lake.finishedVersions('multipart');

    // Assess
    expect(version).toMatchObject({ status: 'FAILED', reason: 'the file is empty (0 bytes)' });
    expect((await lake.s3.send(new HeadObjectCommand({ Bucket: lake.bucket, Key: key }))).ContentLength).toBe(0);
  });

  it('rejects ragged rows and an unterminated quote, each with its line number and reason, and keeps the good rows', async () => {
    // Prepare: threshold high enough that the version stays READY.
    await lake.request('PUT', '/datasets/ragged', { rejectThreshold: 0.9 });

    // Act
    const version = await ingest('ragged', 'data.csv', 'a,b,c\n1,x,2.5\n2,y\n3,z,1,extra\n4,w,3\n5,"open,6\n6,v,7\n');

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsRead: 5, rowsAccepted: 2, rowsRejected: 3 });
    const rows = await rejectedRows(version);
    expect(rows.map((r) => [r.line, r.errors])).toEqual([
      [3, ['missing columns']],
      [4, ['too many columns']],
      [6, ['unquoted value']],
    ]);
    expect(rows[0]?.raw).toBe('2,y');
    expect(rows[2]?.reasons).toEqual(['unterminated quote: the quoted value runs to the end of the file']);
  });

  it('rejects a line of invalid UTF-8 with its line number', async () => {
    // Prepare
    const body = Buffer.concat([Buffer.from('a,b\n1,ok\n2,'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n3,fine\n4,good\n5,yes\n6,no\n7,x\n8,y\n9,z\n10,w\n11,v\n')]);

    // Act
    const version = await ingest('bad-utf8', 'data.csv', body);

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: 10, rowsRejected: 1 });
    const [row] = await rejectedRows(version);
    expect(row).toMatchObject({ line: 3, errors: ['invalid encoding'] });
  });

  it('rejects a 10 MB single line with its line number, and keeps the rows around it', async () => {
    // Prepare
    await lake.request('PUT', '/datasets/long-line', { rejectThreshold: 0.5 });
    const body = `a,b\n1,x\n2,${'y'.repeat(10 * 1024 * 1024)}\n3,z\n`;

    // Act
    const version = await ingest('long-line', 'data.csv', body);

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 1 });
    const [row] = await rejectedRows(version);
    expect(row).toMatchObject({ line: 3, errors: ['line size over maximum'] });
  });

  it('types a column with mixed values as string and says so, or rejects the odd rows when the type is declared', async () => {
    // Prepare
    const body = 'id,value\n1,10\n2,20\n3,abc\n4,40\n';
    await lake.request('PUT', '/datasets/mixed-declared', {
      rejectThreshold: 0.5,
      schema: { columns: [{ name: 'id', type: 'integer' }, { name: 'value', type: 'integer' }] },
    });

    // Act
    const inferred = await ingest('mixed-inferred', 'data.csv', body);
    const declared = await ingest('mixed-declared', 'data.csv', body);

    // Assess
    expect(inferred).toMatchObject({ status: 'READY', rowsAccepted: 4 });
    expect(inferred.schema?.columns[1]).toEqual({ name: 'value', type: 'string', nullable: false });
    expect(inferred.notes?.[0]).toMatch(/^column 'value': its 4 sampled values mix kinds \(numbers: 3, e\.g\. '[0-9]+'; text: 1, e\.g\. 'abc'\)/);
    expect(declared).toMatchObject({ status: 'READY', rowsAccepted: 3, rowsRejected: 1, schema: { inferred: false } });
    const [row] = await rejectedRows(declared);
    expect(row).toMatchObject({ line: 4, errors: ['cast'], raw: '3,abc' });
    expect(row?.reasons[0]).toContain('"value"');
  });

  it('fails a version whose file lacks a declared column, naming it', async () => {
    // Prepare
    await lake.request('PUT', '/datasets/declared', {
      schema: { columns: [{ name: 'id', type: 'integer' }, { name: 'label', type: 'string', nullable: false }] },
    });

    // Act
    const version = await ingest('declared', 'data.csv', 'id,name\n1,a\n');

    // Assess
    expect(version).toMatchObject({ status: 'FAILED', reason: "declared column 'label' missing from the file (found: id, name)" });
  });

  it('fails a version whose rejected share is over the threshold, and still keeps the rejected rows', async () => {
    // Act (default threshold 10 %)
    const version = await ingest('too-many-bad', 'data.csv', 'a,b\n1,2\n3\n4\n5,6\n');

    // Assess
    expect(version).toMatchObject({ status: 'FAILED', rowsRead: 4, rowsAccepted: 2, rowsRejected: 2 });
    expect(version.reason).toBe('2 of 4 rows (50 %) were rejected; the dataset allows 10 % (see the rejected rows)');
    expect(await rejectedRows(version)).toHaveLength(2);
  });

  it('ingests a cell of 80,000 digits ending in a letter as text (type inference reads it once)', async () => {
    // Act: the file that took 41 s when the float pattern backtracked
    const version = await ingest('long-cell', 'data.csv', `v,w\n${'1'.repeat(80_000)}x,a\n`);

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: 1, schema: { columns: [{ name: 'v', type: 'string' }, { name: 'w', type: 'string' }] } });
  });

  it('rejects the rows of floats beyond the double range with their reasons, and keeps the version READY', async () => {
    // Prepare: 20 good rows, one 1e309 and one 80,000-digit integer (within the 10 % threshold)
    const good = Array.from({ length: 20 }, (_, i) => `${i + 0.5},r${i}\n`).join('');
    const body = `v,w\n${good}1e309,big\n${'1'.repeat(80_000)},huge\n`;

    // Act
    const version = await ingest('beyond-double', 'data.csv', body);

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsRead: 22, rowsAccepted: 20, rowsRejected: 2 });
    expect((await rejectedRows(version)).map((r) => r.reasons)).toEqual([
      ['column "v": 1e309 is out of the float range (finite values up to ±1.8e308)'],
      [`column "v": ${'1'.repeat(80)}… (80000 characters) is out of the float range (finite values up to ±1.8e308)`],
    ]);
    expect(version.statistics?.[0]).toMatchObject({ name: 'v', type: 'float', min: 0.5, max: 19.5, mean: 10 });
  });

  it('makes a version READY whose statistics lie beyond the numbers DynamoDB holds (1e200, 1e-320), showing those as text', async () => {
    // Act
    const version = await ingest('beyond-dynamo', 'data.csv', 'v,w\n1e200,1e-320\n-1e200,5\n5,5\n');

    // Assess
    expect(version).toMatchObject({ status: 'READY', rowsAccepted: 3 });
    expect(version.statistics).toMatchObject([
      { name: 'v', min: '-1e+200', max: '1e+200' },
      { name: 'w', min: '1e-320', max: 5 },
    ]);
  });

  it('answers 400 naming the problem for a bad dataset definition, and 404 for an unknown dataset', async () => {
    // Act
    const badThreshold = await lake.request('PUT', '/datasets/defs', { rejectThreshold: 2 });
    const badType = await lake.request('PUT', '/datasets/defs', { schema: { columns: [{ name: 'x', type: 'decimal' }] } });
    const badName = await lake.request('PUT', '/datasets/bad%20name', {});
    const unknown = await lake.request('GET', '/datasets/never-seen/versions');

    // Assess
    expect(badThreshold.status).toBe(400);
    expect(String(badThreshold.body.error)).toContain('rejectThreshold');
    expect(badType.status).toBe(400);
    expect(String(badType.body.error)).toContain('schema.columns.0.type');
    expect(badName.status).toBe(400);
    expect(unknown).toMatchObject({ status: 404, body: { error: "dataset 'never-seen' not found" } });
  });
});

describe('delivery semantics of the local lake', () => {
  it('turns a duplicate delivery of the same object into one version', async () => {
    // Prepare
    const eTag = await lake.drop('raw/dup/data.csv', IRIS);
    const [first] = await lake.finishedVersions('dup');
    const sqs = new SQSClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
    const event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: lake.bucket }, object: { key: 'raw/dup/data.csv', size: IRIS.length, eTag, sequencer: first?.source.sequencer } },
        },
      ],
    };

    // Act: S3 delivers at least once; the same notification arrives twice more.
    await sqs.send(new SendMessageCommand({ QueueUrl: cloud.resources.queues.ingest.url, MessageBody: JSON.stringify(event) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: cloud.resources.queues.ingest.url, MessageBody: JSON.stringify(event) }));
    await lake.drop('raw/dup/marker.csv', `${IRIS}5.0,3.0,1.6,0.2,setosa\n`); // queued after the duplicates: when it is in, they have been handled
    const versions = await lake.finishedVersions('dup', 2);
    sqs.destroy();

    // Assess
    expect(versions.map((v) => [v.version, v.source.key, v.attempts])).toEqual([
      [2, 'raw/dup/marker.csv', 1],
      [1, 'raw/dup/data.csv', 1],
    ]);
  });

  it('records a re-drop of the latest version\'s bytes as a duplicate of it, and makes a new version of other bytes', async () => {
    // Prepare
    const other = `${IRIS}5.0,3.0,1.6,0.2,setosa\n`;
    await lake.drop('raw/redrop/data.csv', IRIS);
    await lake.finishedVersions('redrop');

    // Act: the same file again (same key, an unversioned bucket), under another name, then other bytes, then the first bytes again
    await lake.drop('raw/redrop/data.csv', IRIS);
    await lake.drop('raw/redrop/copy.csv', IRIS);
    await duplicateDropsOf('redrop', 1, 2);
    await lake.drop('raw/redrop/data.csv', other);
    const afterOther = await lake.finishedVersions('redrop', 2);
    await lake.drop('raw/redrop/data.csv', IRIS);
    const versions = await lake.finishedVersions('redrop', 3);

    // Assess
    expect(afterOther.map((v) => [v.version, v.source.key])).toEqual([
      [2, 'raw/redrop/data.csv'],
      [1, 'raw/redrop/data.csv'],
    ]);
    expect(afterOther[1]).toMatchObject({ duplicateDrops: 2, lastDuplicateDrop: { source: { key: 'raw/redrop/copy.csv', eTag: afterOther[1]?.source.eTag } } });
    expect(versions.map((v) => [v.version, v.rowsAccepted])).toEqual([
      [3, 6],
      [2, 7],
      [1, 6],
    ]);
  });

  it('gives two concurrent drops into one dataset distinct versions', async () => {
    // Act
    await Promise.all([lake.drop('raw/pair/a.csv', IRIS), lake.drop('raw/pair/b.csv', `${IRIS}5.0,3.0,1.6,0.2,setosa\n`)]);
    const versions = await lake.finishedVersions('pair', 2);

    // Assess
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    expect(versions.map((v) => v.source.key).sort()).toEqual(['raw/pair/a.csv', 'raw/pair/b.csv']);
    expect(versions.every((v) => v.status === 'READY')).toBe(true);
  });
});
